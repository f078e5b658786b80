/**
 * The path syntax of SPEC 4, shared by flattening ("Retrieve data") and `dedup.params`:
 * `body.products.0.name`, `headers.x-request-id`, `body["a.b"]`.
 */
export type PathRoot = "body" | "headers" | "query";

export type ParsedPath =
  { readonly root: PathRoot; readonly segments: string[] } | { readonly error: string };

const ROOTS: readonly PathRoot[] = ["body", "headers", "query"];
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;
const PLAIN_KEY_CHAR = /[A-Za-z0-9_-]/;
/** An array index as a path writes it: digits, no sign, no leading zero. */
export const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const EXAMPLE = 'body.order_number, headers.x-request-id or body["a.b"]';

/** The text of one segment as it follows its parent: `.key`, `.0` or `["any key"]`. */
export function formatSegment(segment: string | number): string {
  if (typeof segment === "number") return `.${segment}`;
  return PLAIN_KEY.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
}

export function formatPath(root: PathRoot, segments: readonly (string | number)[]): string {
  let text: string = root;
  for (const segment of segments) text += formatSegment(segment);
  return text;
}

/** The inverse of formatPath; header names are lower-cased, as flattening writes them. */
export function parsePath(text: string): ParsedPath {
  const root = ROOTS.find(
    (name) => text.startsWith(name) && (text.length === name.length || isSeparator(text, name.length)),
  );
  if (root === undefined) {
    return { error: `"${text}" must start with body, headers or query, as in ${EXAMPLE}` };
  }
  const segments: string[] = [];
  let at = root.length;
  while (at < text.length) {
    const parsed = text[at] === "." ? parsePlainKey(text, at + 1) : parseQuotedKey(text, at + 1);
    if ("error" in parsed) return parsed;
    segments.push(parsed.key);
    at = parsed.end;
  }
  if (root === "headers") {
    if (segments.length !== 1) {
      return { error: `"${text}" must name one header, as in headers.x-request-id` };
    }
    segments[0] = segments[0]!.toLowerCase();
  }
  return { root, segments };
}

function isSeparator(text: string, at: number): boolean {
  return text[at] === "." || text[at] === "[";
}

type Parsed = { readonly key: string; readonly end: number } | { readonly error: string };

function parsePlainKey(text: string, start: number): Parsed {
  let end = start;
  while (end < text.length && PLAIN_KEY_CHAR.test(text[end]!)) end += 1;
  if (end === start) {
    return { error: `"${text}" has an empty key at position ${start + 1}; write it as [""]` };
  }
  if (end < text.length && !isSeparator(text, end)) {
    return {
      error:
        `"${text}" has "${text[end]}" at position ${end + 1}: a key with characters other than ` +
        `letters, digits, _ and - is written in brackets and quotes, as in body["a.b"]`,
    };
  }
  return { key: text.slice(start, end), end };
}

/** `["…"]`, the quoted part in JSON string syntax; `start` is just after the `[`. */
function parseQuotedKey(text: string, start: number): Parsed {
  const malformed = {
    error: `"${text}" has a malformed bracket at position ${start}: write ["key"] with the key in double quotes`,
  };
  if (text[start] !== '"') return malformed;
  let end = start + 1;
  while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
  if (end >= text.length || text[end + 1] !== "]") return malformed;
  let key: unknown;
  try {
    key = JSON.parse(text.slice(start, end + 1));
  } catch (error) {
    return {
      error: `"${text}" has an invalid quoted key at position ${start + 1}: ${(error as Error).message}`,
    };
  }
  return typeof key === "string" ? { key, end: end + 2 } : malformed;
}

/**
 * The value at `segments` below `value`, or undefined. Only own properties are followed, so
 * `__proto__` or `constructor` find a key of that name in the data, never the prototype chain.
 */
export function valueAtPath(value: unknown, segments: readonly (string | number)[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (typeof current !== "object" || current === null) return undefined;
    if (Array.isArray(current)) {
      const index = typeof segment === "number" ? segment : ARRAY_INDEX.test(segment) ? Number(segment) : -1;
      if (!Number.isInteger(index) || index < 0 || index >= current.length) return undefined;
      current = current[index] as unknown;
    } else {
      const key = String(segment);
      if (!Object.hasOwn(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    }
  }
  return current;
}
