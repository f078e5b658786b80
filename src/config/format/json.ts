import type { Diagnostic } from "../diagnostics.js";

/** One JSON document: `{"ok", "problems": [{file, line, col, code, message}]}` (SPEC 7). */
export function formatJson(diagnostics: readonly Diagnostic[]): string {
  const problems = diagnostics.map(({ file, line, col, code, message }) => ({
    file,
    line,
    col,
    code,
    message,
  }));
  return JSON.stringify({ ok: problems.length === 0, problems }, null, 2);
}
