import type { Diagnostic } from "../diagnostics.js";

/** `file:line:col: code message`, one per line, as compilers print them. */
export function formatText(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.code} ${d.message}`).join("\n");
}
