import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DedupKeyIndex } from "../../src/dedup/key-index.js";
import { testHash } from "../store/conformance.js";

describe("DedupKeyIndex", () => {
  it("gives back exactly what was recorded, per scope", () => {
    const index = new DedupKeyIndex();
    const firstEventId = randomUUID();
    index.set("shop", testHash("a"), { firstEventId, expiresAt: 1_700_000_000_123, rowId: 42 });
    expect(index.get("shop", testHash("a"))).toEqual({
      firstEventId,
      expiresAt: 1_700_000_000_123,
      rowId: 42,
    });
    expect(index.get("other", testHash("a"))).toBeUndefined();
    expect(index.get("shop", testHash("b"))).toBeUndefined();
    expect(index.size).toBe(1);
  });

  it("moves only the expiry on touch, and knows which keys it has", () => {
    const index = new DedupKeyIndex();
    const firstEventId = randomUUID();
    index.set("shop", testHash("a"), { firstEventId, expiresAt: 10, rowId: 1 });
    expect(index.touch("shop", testHash("a"), 99)).toBe(true);
    expect(index.touch("shop", testHash("missing"), 99)).toBe(false);
    expect(index.get("shop", testHash("a"))).toEqual({ firstEventId, expiresAt: 99, rowId: 1 });
  });

  it("sweeps exactly the expired keys and reports their row ids", () => {
    const index = new DedupKeyIndex();
    index.set("shop", testHash("old"), { firstEventId: randomUUID(), expiresAt: 100, rowId: 7 });
    index.set("shop", testHash("edge"), { firstEventId: randomUUID(), expiresAt: 200, rowId: 8 });
    index.set("shop", testHash("new"), { firstEventId: randomUUID(), expiresAt: 201, rowId: 9 });
    const removed: number[] = [];
    expect(index.sweep(200, (rowId) => removed.push(rowId))).toBe(2);
    expect(removed.sort()).toEqual([7, 8]);
    expect(index.get("shop", testHash("new"))?.rowId).toBe(9);
    expect(index.size).toBe(1);
  });

  it("keeps every value exact through growth, a sweep that compacts it, and reuse", () => {
    const index = new DedupKeyIndex();
    const ids = new Map<string, string>();
    for (let i = 0; i < 20_000; i += 1) {
      const id = randomUUID();
      ids.set(testHash(`k${i}`), id);
      // Every tenth key outlives the sweep.
      index.set("shop", testHash(`k${i}`), {
        firstEventId: id,
        expiresAt: i % 10 === 0 ? 1_000 : 1,
        rowId: i,
      });
    }
    expect(index.sweep(500)).toBe(18_000);
    for (let i = 0; i < 20_000; i += 10) {
      expect(index.get("shop", testHash(`k${i}`))).toEqual({
        firstEventId: ids.get(testHash(`k${i}`)),
        expiresAt: 1_000,
        rowId: i,
      });
    }
    const later = randomUUID();
    index.set("shop", testHash("later"), { firstEventId: later, expiresAt: 5, rowId: 1 });
    expect(index.get("shop", testHash("later"))?.firstEventId).toBe(later);
    expect(index.get("shop", testHash("k1"))).toBeUndefined();
  });

  it("forgets a deleted key and refuses a hash that is not hex SHA-256", () => {
    const index = new DedupKeyIndex();
    index.set("shop", testHash("a"), { firstEventId: randomUUID(), expiresAt: 1, rowId: 1 });
    index.delete("shop", testHash("a"));
    expect(index.get("shop", testHash("a"))).toBeUndefined();
    expect(index.size).toBe(0);
    expect(() => index.set("shop", "h1", { firstEventId: randomUUID(), expiresAt: 1, rowId: 1 })).toThrow(
      TypeError,
    );
    // Each would decode to the bytes of another key: Buffer stops at a character that is not hex,
    // reads only the low 8 bits of any other, and reads upper-case as lower.
    for (const other of [
      `${testHash("b").slice(0, 62)}zz`,
      "\u0161".repeat(64),
      testHash("b").toUpperCase(),
    ]) {
      expect(() => index.get("shop", other)).toThrow(TypeError);
    }
  });

  it("keeps the same hash apart in two scopes through set, delete and sweep", () => {
    const index = new DedupKeyIndex();
    const shop = { firstEventId: randomUUID(), expiresAt: 100, rowId: 1 };
    const crm = { firstEventId: randomUUID(), expiresAt: 300, rowId: 2 };
    index.set("shop", testHash("a"), shop);
    index.set("crm", testHash("a"), crm);
    expect(index.get("shop", testHash("a"))).toEqual(shop);
    expect(index.get("crm", testHash("a"))).toEqual(crm);
    expect(index.sweep(200)).toBe(1);
    expect(index.get("shop", testHash("a"))).toBeUndefined();
    expect(index.get("crm", testHash("a"))).toEqual(crm);
    index.delete("shop", testHash("a"));
    expect(index.get("crm", testHash("a"))).toEqual(crm);
  });

  it("round-trips keys inserted after every one of 20,000 keys was swept", () => {
    const index = new DedupKeyIndex();
    for (let i = 0; i < 20_000; i += 1) {
      index.set(`s${i % 3}`, testHash(`old${i}`), { firstEventId: randomUUID(), expiresAt: 1, rowId: i });
    }
    expect(index.sweep(1)).toBe(20_000);
    expect(index.size).toBe(0);
    const fresh = Array.from({ length: 5_000 }, (_, i) => ({
      scope: `s${i % 2}`,
      hash: testHash(`new${i}`),
      key: { firstEventId: randomUUID(), expiresAt: 10_000 + i, rowId: 2 ** 40 + i },
    }));
    for (const { scope, hash, key } of fresh) index.set(scope, hash, key);
    for (const { scope, hash, key } of fresh) expect(index.get(scope, hash)).toEqual(key);
    expect(index.get("s0", testHash("old0"))).toBeUndefined();
    expect(index.size).toBe(5_000);
  });

  it("finds every other key after deleting half of 5,000 in one scope, in any order", () => {
    const index = new DedupKeyIndex();
    const keys = Array.from({ length: 5_000 }, (_, i) => ({
      hash: testHash(`d${i}`),
      key: { firstEventId: randomUUID(), expiresAt: 1_000 + i, rowId: i },
    }));
    for (const { hash, key } of keys) index.set("shop", hash, key);
    // Every third, then the rest of the odd ones: deletions land in and between runs of
    // neighbouring cells, and the keys after each must stay reachable.
    const deleted = new Set<number>();
    for (let i = 0; i < keys.length; i += 3) deleted.add(i);
    for (let i = 1; i < keys.length; i += 2) deleted.add(i);
    for (const i of deleted) index.delete("shop", keys[i]!.hash);
    expect(index.size).toBe(keys.length - deleted.size);
    keys.forEach(({ hash, key }, i) => {
      expect(index.get("shop", hash)).toEqual(deleted.has(i) ? undefined : key);
    });
    // Deleted slots are reused without disturbing the keys that stayed.
    const again = { firstEventId: randomUUID(), expiresAt: 7, rowId: 99_999 };
    index.set("shop", keys[0]!.hash, again);
    expect(index.get("shop", keys[0]!.hash)).toEqual(again);
    expect(index.get("shop", keys[2]!.hash)).toEqual(keys[2]!.key);
  });

  it("answers for the right key after refusing a hash half-way through decoding it", () => {
    const index = new DedupKeyIndex();
    const key = { firstEventId: randomUUID(), expiresAt: 5, rowId: 3 };
    index.set("shop", testHash("a"), key);
    const refused = `${testHash("b").slice(0, 40)}Z${testHash("b").slice(41)}`;
    expect(() => index.get("shop", refused)).toThrow(TypeError);
    expect(index.get("shop", testHash("a"))).toEqual(key);
    expect(index.get("shop", testHash("b"))).toBeUndefined();
  });

  it("refuses a first event id that is not a UUID, and keeps one given in upper case", () => {
    const index = new DedupKeyIndex();
    for (const bad of ["not-a-uuid", `${randomUUID().slice(0, 35)}g`, randomUUID().replaceAll("-", "")]) {
      expect(() => index.set("shop", testHash("a"), { firstEventId: bad, expiresAt: 1, rowId: 1 })).toThrow(
        TypeError,
      );
    }
    expect(index.size).toBe(0);
    expect(index.get("shop", testHash("a"))).toBeUndefined();
    const id = randomUUID();
    index.set("shop", testHash("a"), { firstEventId: id.toUpperCase(), expiresAt: 1, rowId: 1 });
    expect(index.get("shop", testHash("a"))?.firstEventId).toBe(id);
  });
});
