import { describe, expect, it } from "vitest";
import { formatMismatches, matchSubset } from "../../src/workflow-tests/match.js";

describe("matchSubset", () => {
  it("accepts an expected object whose keys are a subset of the actual one", () => {
    expect(
      matchSubset({ client: { email: "a@b.c" } }, { action: "x", client: { email: "a@b.c", id: 1 } }),
    ).toEqual([]);
  });

  it("compares arrays element by element, objects inside them as subsets", () => {
    expect(matchSubset([{ name: "a" }, { name: "b" }], [{ name: "a", qty: 1 }, { name: "b" }])).toEqual([]);
    expect(matchSubset([{ name: "a" }], [{ name: "a" }, { name: "b" }], "items")).toEqual([
      { path: "items.length", expected: 1, actual: 2 },
    ]);
  });

  it("lists every difference with its path", () => {
    const mismatches = matchSubset(
      { client: { email: "a@b.c", name: "Ann" }, items: [1, 2], "odd key": true },
      { client: { email: "x@y.z" }, items: [1, 3], "odd key": false },
      "body",
    );
    expect(formatMismatches(mismatches)).toEqual([
      'body.client.email: expected "a@b.c", got "x@y.z"',
      'body.client.name: expected "Ann", got (missing)',
      "body.items[1]: expected 2, got 3",
      'body["odd key"]: expected true, got false',
    ]);
  });

  it("does not equate numbers and strings", () => {
    expect(formatMismatches(matchSubset({ n: 1 }, { n: "1" }))).toEqual(['n: expected 1, got "1"']);
  });
});
