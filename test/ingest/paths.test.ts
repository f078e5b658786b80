import { describe, expect, it } from "vitest";
import { formatPath, parsePath, valueAtPath, type PathRoot } from "../../src/ingest/paths.js";

describe("formatPath / parsePath", () => {
  const cases: [PathRoot, (string | number)[], string][] = [
    ["body", ["customer_email"], "body.customer_email"],
    ["body", ["products", 0, "name"], "body.products.0.name"],
    ["body", ["a.b"], 'body["a.b"]'],
    ["body", ["with space", "x"], 'body["with space"].x'],
    ["body", ['quo"te', "back\\slash"], 'body["quo\\"te"]["back\\\\slash"]'],
    ["body", ["", "ünï"], 'body[""]["ünï"]'],
    ["body", ["__proto__", "polluted"], "body.__proto__.polluted"],
    ["body", [], "body"],
    ["headers", ["x-request-id"], "headers.x-request-id"],
    ["query", ["tags", 1], "query.tags.1"],
  ];

  it.each(cases)("%s %j ↔ %s", (root, segments, text) => {
    expect(formatPath(root, segments)).toBe(text);
    expect(parsePath(text)).toEqual({ root, segments: segments.map(String) });
  });

  it("round-trips arbitrary keys", () => {
    const keys = ["a", "a.b", "a[0]", '"', "\\", "\n", "]", '"]', "x y", "0", "-", "é"];
    for (const key of keys) {
      const text = formatPath("body", [key, "end"]);
      expect(parsePath(text)).toEqual({ root: "body", segments: [key, "end"] });
    }
  });

  it("lower-cases header names", () => {
    expect(parsePath("headers.X-Request-ID")).toEqual({ root: "headers", segments: ["x-request-id"] });
  });

  it.each([
    ["order_number", /must start with body, headers or query/],
    ["bodyx.a", /must start with body, headers or query/],
    ["body.", /empty key/],
    ["body..a", /empty key/],
    ["body.a b", /brackets and quotes/],
    ["body[a]", /malformed bracket/],
    ['body["a"', /malformed bracket/],
    ['body["a"]x', /malformed bracket|brackets and quotes/],
    ['body["\\x"]', /invalid quoted key/],
    ["headers", /one header/],
    ["headers.a.b", /one header/],
  ])("refuses %s with a helpful message", (text, message) => {
    const parsed = parsePath(text);
    expect(parsed).toHaveProperty("error");
    expect((parsed as { error: string }).error).toMatch(message);
  });
});

describe("valueAtPath", () => {
  const body = { products: [{ name: "Earwax" }], "a.b": 1, nothing: null, n: { "0": "zero" } };

  it("follows object keys and array indices", () => {
    expect(valueAtPath(body, ["products", "0", "name"])).toBe("Earwax");
    expect(valueAtPath(body, ["products", 0, "name"])).toBe("Earwax");
    expect(valueAtPath(body, ["a.b"])).toBe(1);
    expect(valueAtPath(body, ["n", "0"])).toBe("zero");
    expect(valueAtPath(body, [])).toBe(body);
  });

  it("tells an absent value (undefined) from a JSON null", () => {
    expect(valueAtPath(body, ["nothing"])).toBeNull();
    expect(valueAtPath(body, ["missing"])).toBeUndefined();
    expect(valueAtPath(body, ["nothing", "deeper"])).toBeUndefined();
    expect(valueAtPath(body, ["products", "1"])).toBeUndefined();
    expect(valueAtPath(body, ["products", "01"])).toBeUndefined();
    expect(valueAtPath(body, ["products", "length"])).toBeUndefined();
  });

  it("never walks the prototype chain", () => {
    expect(valueAtPath({}, ["__proto__"])).toBeUndefined();
    expect(valueAtPath({}, ["constructor"])).toBeUndefined();
    expect(valueAtPath({}, ["toString"])).toBeUndefined();
    expect(valueAtPath({ a: "x" }, ["a", "length"])).toBeUndefined();
    const parsed: unknown = JSON.parse('{"__proto__": {"polluted": 1}}');
    expect(valueAtPath(parsed, ["__proto__", "polluted"])).toBe(1);
  });
});
