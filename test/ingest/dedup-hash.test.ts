import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEDUP_TTL_MS } from "../../src/defaults.js";
import { compileDedupPolicy, computeDedupHash, type DedupPolicy } from "../../src/dedup/hash.js";

function policy(dedup: Parameters<typeof compileDedupPolicy>[0]): DedupPolicy {
  const compiled = compileDedupPolicy(dedup);
  if ("error" in compiled) throw new Error(compiled.error);
  return compiled;
}

const request = (
  body: unknown,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
) => ({
  body,
  headers,
  query,
});

describe("compileDedupPolicy", () => {
  it("compiles params with the default TTL and header mode lower-cased", () => {
    expect(compileDedupPolicy({ params: ["body.order_number", "headers.X-Request-ID"] })).toEqual({
      kind: "params",
      params: [
        { text: "body.order_number", root: "body", segments: ["order_number"] },
        { text: "headers.X-Request-ID", root: "headers", segments: ["x-request-id"] },
      ],
      ttlMs: DEDUP_TTL_MS,
    });
    expect(compileDedupPolicy({ header: "X-Deduplication-Hash", ttl: "1h" })).toEqual({
      kind: "header",
      header: "x-deduplication-hash",
      ttlMs: 3_600_000,
    });
  });

  it("reports which param is malformed", () => {
    const result = compileDedupPolicy({ params: ["body.ok", "order number"] });
    expect(result).toMatchObject({ index: 1, error: expect.stringMatching(/must start with body/) });
  });

  it("refuses redacted headers, whose values are never kept", () => {
    expect(compileDedupPolicy({ params: ["body.a", "headers.Authorization"] })).toMatchObject({ index: 1 });
    expect(compileDedupPolicy({ header: "Cookie" })).toHaveProperty("error");
  });
});

describe("computeDedupHash", () => {
  const byOrder = policy({ params: ["body.order_number", "headers.x-request-id"] });

  it("gives the same hex SHA-256 for the same values, whatever else differs", () => {
    const first = computeDedupHash(
      byOrder,
      request({ order_number: "1", other: 1 }, { "x-request-id": "r" }),
    );
    const second = computeDedupHash(
      byOrder,
      request({ order_number: "1", other: 2 }, { "x-request-id": "r" }),
    );
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toBe(first);
    expect(computeDedupHash(byOrder, request({ order_number: "2" }, { "x-request-id": "r" }))).not.toBe(
      first,
    );
  });

  it("is skipped (null) when none of the params is present", () => {
    expect(computeDedupHash(byOrder, request({ unrelated: 1 }))).toBeNull();
  });

  it("hashes when only some params are present, telling absent from null", () => {
    const absent = computeDedupHash(byOrder, request({ order_number: "1" }));
    const orderAndX = policy({ params: ["body.order_number", "body.x"] });
    expect(absent).not.toBeNull();
    expect(computeDedupHash(orderAndX, request({ order_number: "1", x: null }))).not.toBe(
      computeDedupHash(orderAndX, request({ order_number: "1" })),
    );
    expect(computeDedupHash(policy({ params: ["body.x"] }), request({ x: null }))).not.toBeNull();
  });

  it("keeps values apart: no two value lists share an encoding", () => {
    const two = policy({ params: ["body.a", "body.b"] });
    const hashes = [
      computeDedupHash(two, request({ a: "1", b: "23" })),
      computeDedupHash(two, request({ a: "12", b: "3" })),
      computeDedupHash(two, request({ a: 1, b: 23 })),
      computeDedupHash(two, request({ a: "1\n=", b: "23" })),
      computeDedupHash(two, request({ b: "1" })),
      computeDedupHash(two, request({ a: "1" })),
      computeDedupHash(two, request({ a: "-" })),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it("counts an inner node as its whole JSON value, whatever its key order", () => {
    const products = policy({ params: ["body.products"] });
    const a = computeDedupHash(products, request({ products: [{ name: "x", id: 1 }] }));
    expect(computeDedupHash(products, request({ products: [{ id: 1, name: "x" }] }))).toBe(a);
    expect(computeDedupHash(products, request({ products: [{ id: 2, name: "x" }] }))).not.toBe(a);
  });

  it("reads query values and array items", () => {
    const byQuery = policy({ params: ["query.id", "body.items.1"] });
    expect(computeDedupHash(byQuery, request({ items: [1, 2] }, {}, { id: "q" }))).toBe(
      computeDedupHash(byQuery, request({ items: [0, 2] }, {}, { id: "q" })),
    );
  });

  it("hashes the client's header value; skipped when the header is missing or empty", () => {
    const byHeader = policy({ header: "X-Deduplication-Hash" });
    const hash = computeDedupHash(byHeader, request({}, { "x-deduplication-hash": "abc" }));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain("abc");
    expect(computeDedupHash(byHeader, request({ other: 1 }, { "x-deduplication-hash": "abc" }))).toBe(hash);
    expect(computeDedupHash(byHeader, request({}, {}))).toBeNull();
    expect(computeDedupHash(byHeader, request({}, { "x-deduplication-hash": " " }))).toBeNull();
    const byParam = policy({ params: ["headers.x-deduplication-hash"] });
    expect(computeDedupHash(byParam, request({}, { "x-deduplication-hash": "abc" }))).not.toBe(hash);
  });

  it("tells apart integers past 2^53 that JSON.parse rounds alike, by the text sent", () => {
    const byNumber = policy({ params: ["body.order_number"] });
    const hashOf = (text: string) => computeDedupHash(byNumber, request(JSON.parse(text)), text);
    const first = hashOf('{"order_number": 9007199254740993}');
    expect(JSON.parse('{"n": 9007199254740993}')).toEqual(JSON.parse('{"n": 9007199254740992}'));
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf('{"order_number": 9007199254740992}')).not.toBe(first);
    expect(hashOf('{"other": 1, "order_number":9007199254740993}')).toBe(first);
    // Inside an inner value too.
    const byOrder = policy({ params: ["body.order"] });
    const orderHash = (text: string) => computeDedupHash(byOrder, request(JSON.parse(text)), text);
    const inner = orderHash('{"order": {"id": 12345678901234567891, "n": 1}}');
    expect(orderHash('{"order": {"id": 12345678901234567890, "n": 1}}')).not.toBe(inner);
    // Whatever the sender's key order and spacing, as for any inner value.
    expect(orderHash('{"order":{ "n":1,\n "id":12345678901234567891 }}')).toBe(inner);
    // Never the key of the rounded number, which this version kept before.
    const roundedKey = createHash("sha256")
      .update("inlet-dedup/v1/params\n=9007199254740992\n")
      .digest("hex");
    expect(computeDedupHash(byNumber, request({ order_number: "x" }))).toBe(
      createHash("sha256").update('inlet-dedup/v1/params\n="x"\n').digest("hex"),
    );
    expect(hashOf('{"order_number": 9007199254740992}')).not.toBe(roundedKey);
  });

  it("keeps the hash of exact numbers as it was, and skips rounded ones it has no text for", () => {
    const byNumber = policy({ params: ["body.order_number"] });
    expect(computeDedupHash(byNumber, request({ order_number: 42 }), '{"order_number":42.0}')).toBe(
      computeDedupHash(byNumber, request({ order_number: 42 })),
    );
    expect(computeDedupHash(byNumber, request({ order_number: 2 ** 60 }))).toBeNull();
  });

  it("does not read inherited properties, of the body nor of the headers", () => {
    const proto = policy({ params: ["body.constructor", "body.__proto__"] });
    expect(computeDedupHash(proto, request({}))).toBeNull();
    expect(computeDedupHash(policy({ header: "constructor" }), request({}))).toBeNull();
    expect(computeDedupHash(policy({ params: ["headers.constructor"] }), request({}))).toBeNull();
  });

  it("counts an empty header or query value as absent in params mode, an empty body value as present", () => {
    const byAll = policy({ params: ["body.order", "headers.x-request-id", "query.q"] });
    // Two different orders whose proxy sent an empty id must not be one key.
    expect(computeDedupHash(byAll, request({ order: 1 }, { "x-request-id": "" }, { q: " " }))).toBe(
      computeDedupHash(byAll, request({ order: 1 })),
    );
    expect(
      computeDedupHash(
        policy({ params: ["headers.x-request-id", "query.q"] }),
        request({}, { "x-request-id": " " }, { q: "" }),
      ),
    ).toBeNull();
    expect(computeDedupHash(policy({ params: ["body.order"] }), request({ order: "" }))).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });
});
