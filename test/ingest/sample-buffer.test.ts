import { describe, expect, it } from "vitest";
import { createSampleBuffer } from "../../src/ingest/sample-buffer.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { memoryLogger } from "../helpers/start-server.js";
import { orderEvent } from "../helpers/temp-project.js";

describe("the sample buffer", () => {
  it("writes with the count the config keeps when it writes, so a removed integration gets no samples back", async () => {
    const store = new MemoryStore();
    let keep = 3;
    const buffer = createSampleBuffer({
      store,
      intervalMs: 60_000,
      logger: memoryLogger().logger,
      keepNow: () => keep,
    });
    try {
      // Recorded by requests that began while the config kept 3.
      buffer.record(orderEvent("e1", "1"), 3);
      buffer.record(orderEvent("e2", "2"), 3);
      keep = 1;
      await buffer.flush();
      expect((await store.listSamples("orders")).map((sample) => sample.eventId)).toEqual(["e2"]);
      buffer.record(orderEvent("e3", "3"), 3);
      keep = 0;
      await buffer.flush();
      expect((await store.listSamples("orders")).map((sample) => sample.eventId)).toEqual(["e2"]);
    } finally {
      await buffer.stop();
      await store.close();
    }
  });
});
