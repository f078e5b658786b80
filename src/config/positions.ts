import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";
import type { Diagnostic, DiagnosticCode } from "./diagnostics.js";

export type JsonPath = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** Where in its file a parsed document lives, so any checker can position a problem in it. */
export interface DocumentSource {
  readonly file: string;
  readonly document: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/**
 * The position of the node at `path` (1-based). When the path does not exist (a missing
 * required field), the closest existing ancestor is used. With `at: "key"` the key of the last
 * segment is pointed at (an unknown field), instead of its value.
 */
export function locate(source: DocumentSource, path: JsonPath, options?: { at?: "key" | "value" }): Position {
  let node: unknown = source.document.contents;
  let best: Node | undefined = isNodeWithRange(node) ? node : undefined;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      if (last && options?.at === "key" && isNodeWithRange(pair.key)) {
        best = pair.key;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
    } else {
      break;
    }
    if (!isNodeWithRange(node)) break;
    best = node;
  }
  const offset = best?.range?.[0] ?? 0;
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, col };
}

function isNodeWithRange(value: unknown): value is Node {
  return typeof value === "object" && value !== null && "range" in value && Array.isArray(value.range);
}

/** An error Diagnostic at `path` of a document. */
export function diagnosticAt(
  source: DocumentSource,
  path: JsonPath,
  code: DiagnosticCode,
  message: string,
  options?: { at?: "key" | "value" },
): Diagnostic {
  const { line, col } = locate(source, path, options);
  return { file: source.file, line, col, code, severity: "error", message };
}
