import type { Diagnostic } from "../diagnostics.js";
import { formatGithub } from "./github.js";
import { formatJson } from "./json.js";
import { formatText } from "./text.js";

export const FORMATS = ["text", "json", "github"] as const;
export type Format = (typeof FORMATS)[number];

const FORMATTERS: Readonly<Record<Format, (diagnostics: readonly Diagnostic[]) => string>> = {
  text: formatText,
  json: formatJson,
  github: formatGithub,
};

export function formatDiagnostics(format: Format, diagnostics: readonly Diagnostic[]): string {
  return FORMATTERS[format](diagnostics);
}
