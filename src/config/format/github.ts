import type { Diagnostic } from "../diagnostics.js";

/** GitHub Actions workflow commands: each problem becomes an annotation on its line. */
export function formatGithub(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map(
      (d) =>
        `::${d.severity === "error" ? "error" : "warning"} file=${escapeProperty(d.file)},line=${d.line},col=${d.col},title=${escapeProperty(d.code)}::${escapeData(d.message)}`,
    )
    .join("\n");
}

function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
