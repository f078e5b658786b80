import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HTTP_ERRORS } from "../../src/http-errors.js";

/** The README's error table and the catalogue must list the same codes with the same statuses. */
describe("HTTP error catalogue", () => {
  const readme = readFileSync("README.md", "utf8");
  const documented = new Map(
    [...readme.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z-]+)`\s*\|/gm)].map((match) => [
      match[2]!,
      Number(match[1]),
    ]),
  );

  it("documents every code with its status", () => {
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) {
      expect(documented.get(code), `README error table row for ${code}`).toBe(status);
    }
  });

  it("documents no code the catalogue lacks", () => {
    expect([...documented.keys()].filter((code) => !(code in HTTP_ERRORS))).toEqual([]);
  });
});
