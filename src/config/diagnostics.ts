/** One problem found in the config, positioned 1-based like the yaml package. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly code: DiagnosticCode;
  readonly severity: "error" | "warning";
  readonly message: string;
}

/** The closed set of problem codes; scripts match on these, so they are stable. */
export type DiagnosticCode =
  | "yaml-syntax"
  | "io"
  | "unknown-kind"
  | "schema"
  | "duplicate-id"
  | "duplicate-endpoint"
  | "unknown-ref"
  | "invalid-value"
  | "dedup-param"
  | "unknown-node"
  | "cycle"
  | "unreachable"
  | "template-syntax"
  | "missing-secret";

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code);
}

/** Sorted by position, exact repeats removed (several checkers may reach the same node). */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...diagnostics].sort(compareDiagnostics).filter((d) => {
    const key = `${d.file}:${d.line}:${d.col}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
