import { hash } from "node:crypto";
import type { DedupConfig } from "../config/documents.js";
import { parseDurationMs } from "../config/units.js";
import { DEDUP_TTL_MS } from "../defaults.js";
import { REDACTED_HEADERS } from "../ingest/event.js";
import { literalAt } from "../ingest/json-literal.js";
import { parsePath, valueAtPath, type PathRoot } from "../ingest/paths.js";

export interface DedupParam {
  readonly text: string;
  readonly root: PathRoot;
  readonly segments: readonly string[];
}

/** An integration's `dedup`, compiled once per snapshot. */
export type DedupPolicy =
  | { readonly kind: "params"; readonly params: readonly DedupParam[]; readonly ttlMs: number }
  /** `header` is lower-case. */
  | { readonly kind: "header"; readonly header: string; readonly ttlMs: number };

/** The parts of a request a hash is built from; header names lower-case. */
export interface DedupRequest {
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[]>>;
}

// Versioned and mode-tagged, so a change of encoding or mode can never collide with older keys.
const PARAMS_PREFIX = "inlet-dedup/v1/params\n";
const HEADER_PREFIX = "inlet-dedup/v1/header\n";
const ABSENT = "-\n";
const PRESENT = "=";

export function compileDedupPolicy(dedup: DedupConfig): DedupPolicy | { error: string; index: number } {
  const ttlMs = dedup.ttl === undefined ? DEDUP_TTL_MS : parseDurationMs(dedup.ttl);
  if ("header" in dedup) {
    const header = dedup.header.toLowerCase();
    if (REDACTED_HEADERS.has(header)) return { error: redactedMessage(dedup.header), index: 0 };
    return Object.freeze({ kind: "header", header, ttlMs });
  }
  const params: DedupParam[] = [];
  for (const [index, text] of dedup.params.entries()) {
    const parsed = parsePath(text);
    if ("error" in parsed) return { error: parsed.error, index };
    if (parsed.root === "headers" && REDACTED_HEADERS.has(parsed.segments[0] ?? "")) {
      return { error: redactedMessage(text), index };
    }
    params.push(Object.freeze({ text, root: parsed.root, segments: Object.freeze(parsed.segments) }));
  }
  return Object.freeze({ kind: "params", params: Object.freeze(params), ttlMs });
}

function redactedMessage(what: string): string {
  return `${what} is redacted before it is stored, so it cannot identify a request for deduplication`;
}

/**
 * Hex SHA-256 identifying the request for deduplication, or null ("skipped") when none of the
 * params is present or the header is missing (an empty header or query value counts as missing).
 * Each param is encoded as an absence marker or as its canonical JSON (object keys sorted), one
 * per line: JSON never contains a raw newline, so the encoding is unambiguous, and an absent
 * param differs from a JSON null.
 *
 * An integer past 2^53 in a body value is encoded as `#` and the digits the sender sent for it
 * (found in `bodyText`, the JSON text the body was parsed from): parsing rounded it, and two order
 * numbers that round alike must not make the second a duplicate. `#` is never in canonical JSON
 * outside a string, so no such encoding equals one of a value without such an integer (nor one
 * of this version's keys from before: those had the rounded number). Without that text such a
 * request is skipped.
 */
export function computeDedupHash(
  policy: DedupPolicy,
  request: DedupRequest,
  bodyText?: string,
): string | null {
  if (policy.kind === "header") {
    const value = valueAtPath(request.headers, [policy.header]);
    if (isBlank(value)) return null;
    return sha256Hex(HEADER_PREFIX + String(value));
  }
  let text = PARAMS_PREFIX;
  let present = false;
  for (const param of policy.params) {
    const value = valueAtPath(rootValue(param.root, request), param.segments);
    // An empty header or query value is a proxy's placeholder, not an identity: were it one, every
    // request carrying it would be a duplicate of the first. An empty body value is the sender's data.
    if (value === undefined || (param.root !== "body" && isBlank(value))) {
      text += ABSENT;
    } else {
      present = true;
      const encoded =
        param.root === "body" && holdsRoundedInteger(value)
          ? bodyText && canonicalJson(value, (inner) => literalAt(bodyText, [...param.segments, ...inner]))
          : canonicalJson(value);
      if (encoded === undefined) return null;
      text += `${PRESENT}${encoded}\n`;
    }
  }
  return present ? sha256Hex(text) : null;
}

/** Missing, or text of only whitespace (headers and query values are text). */
function isBlank(value: unknown): boolean {
  return value === undefined || (typeof value === "string" && value.trim() === "");
}

/** An integer beyond the exact range: JSON.parse may have rounded the digits it was sent as. */
function isRoundedInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value);
}

function holdsRoundedInteger(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return isRoundedInteger(value);
  return Object.values(value).some(holdsRoundedInteger);
}

function rootValue(root: PathRoot, request: DedupRequest): unknown {
  switch (root) {
    case "body":
      return request.body;
    case "headers":
      return request.headers;
    case "query":
      return request.query;
    default: {
      const unknownRoot: never = root;
      throw new Error(`unknown path root ${String(unknownRoot)}`);
    }
  }
}

/** The digits a sender sent for the number at a path below a param's value, if it can be found. */
type NumberText = (inner: readonly string[]) => string | undefined;

/**
 * JSON with object keys sorted, so the same value hashes the same whatever order a sender used.
 * With `numberText`, an integer past 2^53 is written as `#` and its digits as sent; undefined when
 * they cannot be found.
 */
function canonicalJson(
  value: unknown,
  numberText?: NumberText,
  at: readonly string[] = [],
): string | undefined {
  if (numberText && isRoundedInteger(value)) {
    const digits = numberText(at);
    return digits === undefined ? undefined : `#${digits}`;
  }
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  // The path is only followed when digits may have to be looked up.
  const inner = (key: string, item: unknown): string | undefined =>
    canonicalJson(item, numberText, numberText ? [...at, key] : at);
  if (Array.isArray(value)) {
    const items = value.map((item: unknown, index) => inner(String(index), item));
    return items.includes(undefined) ? undefined : `[${items.join(",")}]`;
  }
  const object = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const encoded = inner(key, object[key]);
    if (encoded === undefined) return undefined;
    members.push(`${JSON.stringify(key)}:${encoded}`);
  }
  return `{${members.join(",")}}`;
}

/** One-shot: no Hash object per request. */
function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}
