import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/errors.js";
import { checkJsonLimits, flatten, formatFlattened } from "../../src/ingest/flatten.js";
import { parsePath, valueAtPath } from "../../src/ingest/paths.js";
import { SEED_BODY } from "../helpers/seed.js";

describe("flatten", () => {
  it("flattens the seed example to the SPEC's paths, in document order", () => {
    const flat = flatten({
      body: SEED_BODY,
      headers: { "X-Request-ID": "r-1", "X-Forwarded-Host": "example host" },
    });
    expect(Object.entries(flat)).toEqual([
      ["body.customer_email", "example@example.com"],
      ["body.order_number", "111111111"],
      ["body.type", "email"],
      ["body.language", "eng"],
      ["body.products.0.name", "Earwax"],
      ["body.products.0.category", "Hygiene"],
      ["body.products.0.id", "abcdefgh"],
      ["body.products.0.image_url", "http://exampleimage.url"],
      ["body.products.0.product_url", "http://exampleproduct.url"],
      ["body.products.0.group_id", "groupid"],
      ["headers.x-request-id", "r-1"],
      ["headers.x-forwarded-host", "example host"],
    ]);
  });

  it("produces paths that parsePath accepts and that lead back to the value", () => {
    const request = {
      body: { "a.b": { "c d": [1, { e: null }] }, empty: {}, list: [], t: true },
      headers: { "x-id": "1" },
      query: { tag: ["a", "b"], q: "x" },
    };
    const flat = flatten(request);
    expect(flat).toEqual({
      'body["a.b"]["c d"].0': 1,
      'body["a.b"]["c d"].1.e': null,
      "body.empty": {},
      "body.list": [],
      "body.t": true,
      "headers.x-id": "1",
      "query.tag.0": "a",
      "query.tag.1": "b",
      "query.q": "x",
    });
    for (const [path, value] of Object.entries(flat)) {
      const parsed = parsePath(path);
      if ("error" in parsed) throw new Error(parsed.error);
      expect(valueAtPath(request[parsed.root], parsed.segments)).toEqual(value);
    }
  });

  it("keeps __proto__, constructor and prototype keys as plain data", () => {
    const body: unknown = JSON.parse(
      '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}, "prototype": 3}',
    );
    const flat = flatten({ body });
    expect(Object.getPrototypeOf(flat)).toBeNull();
    expect({ ...flat }).toEqual({
      "body.__proto__.polluted": 1,
      "body.constructor.prototype.polluted": 2,
      "body.prototype": 3,
    });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("shows an empty body as one leaf and adds nothing for absent parts", () => {
    expect({ ...flatten({ body: {} }) }).toEqual({ body: {} });
    expect({ ...flatten({ body: undefined, headers: {}, query: {} }) }).toEqual({});
  });

  it("flattens very deep values without overflowing the stack", () => {
    const depth = 100_000;
    const body: unknown = JSON.parse(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
    const flat = flatten({ body });
    expect(Object.values(flat)).toEqual([1]);
  });
});

describe("checkJsonLimits", () => {
  const limits = { maxDepth: 3, maxLeaves: 4 };
  const complex = (value: unknown) => {
    try {
      checkJsonLimits(value, limits);
      return null;
    } catch (error) {
      return error instanceof HttpError ? `${error.status} ${error.code}` : error;
    }
  };

  it("accepts values within both limits", () => {
    expect(complex({ a: { b: { c: 1 } } })).toBeNull();
    expect(complex([1, 2, 3, 4])).toBeNull();
    expect(complex({ a: {}, b: [], c: [[]] })).toBeNull();
  });

  it("tells whether every number reads back as JSON.stringify writes it", () => {
    expect(checkJsonLimits({ a: [1, 2.5, -3, 1e300] }, limits).numbersRoundTrip).toBe(true);
    expect(checkJsonLimits({ a: [Infinity] }, limits).numbersRoundTrip).toBe(false);
    expect(checkJsonLimits({ a: { b: -0 } }, limits).numbersRoundTrip).toBe(false);
  });

  it("refuses a value nested deeper than maxDepth with 413 body-too-complex", () => {
    expect(complex({ a: { b: { c: { d: 1 } } } })).toBe("413 body-too-complex");
    expect(complex([[[[]]]])).toBe("413 body-too-complex");
  });

  it("refuses more leaves than maxLeaves, counting empty containers as leaves", () => {
    expect(complex([1, 2, 3, 4, 5])).toBe("413 body-too-complex");
    expect(complex({ a: [1, 2], b: {}, c: [], d: null })).toBe("413 body-too-complex");
  });

  it("survives a depth-5000 array with the SPEC limits", () => {
    const deep: unknown = JSON.parse(`${"[".repeat(5000)}${"]".repeat(5000)}`);
    expect(() => checkJsonLimits(deep, { maxDepth: 32, maxLeaves: 10_000 })).toThrow(HttpError);
  });
});

describe("formatFlattened", () => {
  it("prints one line per path: strings bare, other values as JSON", () => {
    const text = formatFlattened(
      flatten({ body: { s: "a b", n: 1, z: null, e: [], o: {}, multi: "line\nbreak", num: "12" } }),
    );
    expect(text.split("\n")).toEqual([
      "body.s = a b",
      "body.n = 1",
      "body.z = null",
      "body.e = []",
      "body.o = {}",
      'body.multi = "line\\nbreak"',
      "body.num = 12",
    ]);
  });
});
