import { ARRAY_INDEX } from "./paths.js";

/**
 * The text a JSON document gives for the value at `segments` (object keys and array indices,
 * followed as valueAtPath follows them in the parsed value), or undefined when there is none. A
 * key given twice is read at its last occurrence, the one JSON.parse keeps. `text` must be JSON
 * that parsed: nothing here checks its syntax.
 */
export function literalAt(text: string, segments: readonly string[]): string | undefined {
  let start = skipSpace(text, 0);
  for (const segment of segments) {
    const opening = text[start];
    const found =
      opening === "{"
        ? memberValueStart(text, start, segment)
        : opening === "["
          ? elementStart(text, start, segment)
          : undefined;
    if (found === undefined) return undefined;
    start = found;
  }
  return text.slice(start, valueEnd(text, start));
}

function memberValueStart(text: string, open: number, key: string): number | undefined {
  let at = skipSpace(text, open + 1);
  if (text[at] === "}") return undefined;
  let found: number | undefined;
  for (;;) {
    const nameEnd = stringEnd(text, at);
    const name = JSON.parse(text.slice(at, nameEnd)) as string;
    // After the name, its colon.
    const valueStart = skipSpace(text, skipSpace(text, nameEnd) + 1);
    if (name === key) found = valueStart;
    at = skipSpace(text, valueEnd(text, valueStart));
    if (text[at] !== ",") return found;
    at = skipSpace(text, at + 1);
  }
}

function elementStart(text: string, open: number, segment: string): number | undefined {
  if (!ARRAY_INDEX.test(segment)) return undefined;
  const index = Number(segment);
  let at = skipSpace(text, open + 1);
  if (text[at] === "]") return undefined;
  for (let position = 0; position < index; position += 1) {
    at = skipSpace(text, valueEnd(text, at));
    if (text[at] !== ",") return undefined;
    at = skipSpace(text, at + 1);
  }
  return at;
}

/** Where the value starting at `start` ends (exclusive). */
function valueEnd(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return stringEnd(text, start);
  if (first !== "{" && first !== "[") {
    let at = start;
    while (at < text.length && !SCALAR_END.has(text[at]!)) at += 1;
    return at;
  }
  let depth = 0;
  for (let at = start; at < text.length; at += 1) {
    const char = text[at];
    if (char === '"') at = stringEnd(text, at) - 1;
    else if (char === "{" || char === "[") depth += 1;
    else if ((char === "}" || char === "]") && --depth === 0) return at + 1;
  }
  return text.length;
}

/** Just after the closing quote of the string starting at `quote`. */
function stringEnd(text: string, quote: number): number {
  let at = quote + 1;
  while (at < text.length && text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
  return at + 1;
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && JSON_SPACE.has(text[at]!)) at += 1;
  return at;
}

const JSON_SPACE = new Set([" ", "\t", "\n", "\r"]);
const SCALAR_END = new Set([...JSON_SPACE, ",", "]", "}"]);
