import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import { formatDiagnostics } from "../../src/config/format/format.js";

const diagnostics: Diagnostic[] = [
  {
    file: "integrations/a.yaml",
    line: 3,
    col: 11,
    code: "schema",
    severity: "error",
    message: "endpoint: must be a UUID",
  },
  {
    file: "workflows/w,1.yaml",
    line: 9,
    col: 2,
    code: "cycle",
    severity: "error",
    message: "50% of\nthe graph",
  },
];

describe("diagnostic formats", () => {
  it("text is file:line:col: code message", () => {
    expect(formatDiagnostics("text", diagnostics)).toBe(
      "integrations/a.yaml:3:11: schema endpoint: must be a UUID\nworkflows/w,1.yaml:9:2: cycle 50% of\nthe graph",
    );
  });

  it("github emits escaped ::error annotations", () => {
    expect(formatDiagnostics("github", diagnostics).split("\n")).toEqual([
      "::error file=integrations/a.yaml,line=3,col=11,title=schema::endpoint: must be a UUID",
      "::error file=workflows/w%2C1.yaml,line=9,col=2,title=cycle::50%25 of%0Athe graph",
    ]);
  });

  it("json is one document with ok and problems", () => {
    expect(JSON.parse(formatDiagnostics("json", diagnostics))).toEqual({
      ok: false,
      problems: [
        {
          file: "integrations/a.yaml",
          line: 3,
          col: 11,
          code: "schema",
          message: "endpoint: must be a UUID",
        },
        { file: "workflows/w,1.yaml", line: 9, col: 2, code: "cycle", message: "50% of\nthe graph" },
      ],
    });
    expect(JSON.parse(formatDiagnostics("json", []))).toEqual({ ok: true, problems: [] });
  });
});
