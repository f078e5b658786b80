import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../src/config/snapshot.js";
import { createSampleBuffer } from "../../src/ingest/sample-buffer.js";
import { createSample } from "../../src/ingest/samples.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { TrimOptions } from "../../src/store/store.js";
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

  it("trims every integration of a start in one store call, and deletes the samples of those the config lost", async () => {
    /** A real store that counts its trim calls. */
    class CountingStore extends MemoryStore {
      trims = 0;
      override async trimSamples(keep: ReadonlyMap<string, number>, options?: TrimOptions): Promise<void> {
        this.trims += 1;
        return super.trimSamples(keep, options);
      }
    }
    const store = new CountingStore();
    const ids = Array.from({ length: 300 }, (_, index) => `shop-${index}`);
    for (const id of [...ids, "removed-while-down"]) {
      for (let n = 1; n <= 3; n++) {
        await store.addSample(
          id,
          createSample({ ...orderEvent(`${id}-${n}`, String(n)), integration: id }),
          3,
        );
      }
    }
    // What samplesToTrim reads of a snapshot: each integration's `samples`.
    const started = { integrations: new Map(ids.map((id) => [id, { samples: 1 }])) } as unknown as Snapshot;
    const buffer = createSampleBuffer({
      store,
      intervalMs: 60_000,
      logger: memoryLogger().logger,
      keepNow: () => 1,
    });
    try {
      await buffer.retain(null, started);
      expect(store.trims).toBe(1);
      for (const id of [ids[0]!, ids[299]!]) {
        expect((await store.listSamples(id)).map((sample) => sample.eventId)).toEqual([`${id}-3`]);
      }
      expect(await store.listSamples("removed-while-down")).toEqual([]);
    } finally {
      await buffer.stop();
      await store.close();
    }
  });
});
