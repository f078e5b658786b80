import { describe, expect, it } from "vitest";
import { literalAt } from "../../src/ingest/json-literal.js";
import { parsePath, valueAtPath } from "../../src/ingest/paths.js";

const segments = (path: string): string[] => {
  const parsed = parsePath(path);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.segments;
};

describe("literalAt", () => {
  const text = `{ "id" : 12345678901234567890 , "order": {"lines": [ {"sku": "a\\"]}"}, {"sku":"b", "qty": 1e3} ]},
    "a.b": -0.5, "ids": [9007199254740993, 9007199254740992], "dup": 1, "dup": 2, "__proto__": true }`;

  it.each([
    ["body.id", "12345678901234567890"],
    ["body.order.lines.1.qty", "1e3"],
    ["body.order.lines.0", '{"sku": "a\\"]}"}'],
    ["body.order.lines.1.sku", '"b"'],
    ['body["a.b"]', "-0.5"],
    ["body.ids.0", "9007199254740993"],
    ["body.ids.1", "9007199254740992"],
    ["body.dup", "2"],
    ["body.__proto__", "true"],
    ["body", text],
  ])("gives the text the document has at %s", (path, literal) => {
    expect(literalAt(text, segments(path))).toBe(literal);
  });

  it.each(["body.missing", "body.ids.2", "body.ids.01", "body.ids.-1", "body.id.x", "body.order.lines.x"])(
    "finds nothing at %s, where the parsed value has nothing either",
    (path) => {
      expect(valueAtPath(JSON.parse(text), segments(path))).toBeUndefined();
      expect(literalAt(text, segments(path))).toBeUndefined();
    },
  );

  it("reads the same value JSON.parse gives, for every path of a nested document", () => {
    const document = { a: [1, { b: "x,]}", c: [[], {}, null] }], "d e": { f: false } };
    const spaced = JSON.stringify(document, null, 2);
    for (const path of ["body.a.0", "body.a.1.b", "body.a.1.c.1", "body.a.1.c.2", 'body["d e"].f']) {
      const literal = literalAt(spaced, segments(path));
      expect(JSON.parse(literal ?? "undefined")).toEqual(valueAtPath(document, segments(path)));
    }
  });
});
