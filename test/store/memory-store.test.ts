import { describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open-store.js";
import { describeStoreConformance } from "./conformance.js";

describeStoreConformance("memory:", (tuning) => openStore("memory:", { ...tuning }));

describe("openStore", () => {
  it("refuses a store URL it does not know, naming the accepted forms", async () => {
    for (const url of [
      "postgres://localhost/db",
      "sqlite:",
      "memory:x",
      "redis:localhost",
      "redis://h:not-a-port",
    ]) {
      await expect(openStore(url, {})).rejects.toMatchObject({
        code: "store-url",
      });
    }
    for (const url of ["postgres://localhost/db", "sqlite:", "memory:x"]) {
      await expect(openStore(url, {})).rejects.toThrow(/memory:, sqlite:<path> or redis:\/\//);
    }
  });
});
