import { httpError } from "../http-errors.js";
import { formatSegment } from "./paths.js";

export interface FlattenInput {
  /** Absent (or undefined) adds no body paths. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string | string[]>>;
}

/**
 * SPEC 4: every leaf of the request as `path → value`, in document order. Empty objects and
 * arrays are leaves too. The result has no prototype, so keys such as `__proto__` are plain data.
 */
export function flatten(request: FlattenInput): Record<string, unknown> {
  const flat = Object.create(null) as Record<string, unknown>;
  if (request.body !== undefined) walk(flat, "body", request.body);
  if (request.headers) {
    for (const [name, value] of Object.entries(request.headers)) {
      flat[`headers${formatSegment(name.toLowerCase())}`] = value;
    }
  }
  if (request.query) {
    for (const [name, value] of Object.entries(request.query)) {
      walk(flat, `query${formatSegment(name)}`, value);
    }
  }
  return flat;
}

/** Depth-first with an explicit stack: CLI input is not depth-checked, and recursion could overflow. */
function walk(flat: Record<string, unknown>, path: string, value: unknown): void {
  const paths: string[] = [path];
  const values: unknown[] = [value];
  // Children are pushed in reverse so that popping yields document order.
  while (values.length > 0) {
    const current = values.pop();
    const at = paths.pop()!;
    if (Array.isArray(current) && current.length > 0) {
      for (let i = current.length - 1; i >= 0; i -= 1) {
        paths.push(`${at}.${i}`);
        values.push(current[i]);
      }
      continue;
    }
    const keys =
      typeof current === "object" && current !== null && !Array.isArray(current) ? Object.keys(current) : [];
    if (keys.length === 0) {
      flat[at] = current;
      continue;
    }
    const object = current as Record<string, unknown>;
    for (let i = keys.length - 1; i >= 0; i -= 1) {
      const key = keys[i]!;
      paths.push(at + formatSegment(key));
      values.push(object[key]);
    }
  }
}

export interface JsonLimits {
  readonly maxDepth: number;
  readonly maxLeaves: number;
}

/** Whether `value` nests no deeper than `maxDepth` containers. */
export function nestsWithin(value: unknown, maxDepth: number): boolean {
  try {
    checkJsonLimits(value, { maxDepth, maxLeaves: Number.POSITIVE_INFINITY });
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws 413 body-too-complex when `value` nests deeper than maxDepth containers or has more
 * than maxLeaves leaves (empty containers count as leaves, as in flatten). Iterative, and stops
 * at the first container or leaf over a limit, so a hostile body costs no more than the limits.
 * Answers whether JSON.stringify would write every number back as its text reads: false for a
 * number too large for a double (1e400 parses to Infinity, written as null) and for -0 (written 0).
 */
export function checkJsonLimits(value: unknown, limits: JsonLimits): { readonly numbersRoundTrip: boolean } {
  if (typeof value !== "object" || value === null) return { numbersRoundTrip: roundTrips(value) };
  if (limits.maxDepth < 1) throw httpError("body-too-complex");
  const values: object[] = [value];
  const depths: number[] = [1];
  let leaves = 0;
  let numbersRoundTrip = true;
  const visit = (child: unknown, depth: number): void => {
    if (typeof child !== "object" || child === null) {
      if (++leaves > limits.maxLeaves) throw httpError("body-too-complex");
      if (typeof child === "number" && !roundTrips(child)) numbersRoundTrip = false;
    } else if (depth >= limits.maxDepth) {
      throw httpError("body-too-complex");
    } else {
      values.push(child);
      depths.push(depth + 1);
    }
  };
  while (values.length > 0) {
    const container = values.pop()!;
    const depth = depths.pop()!;
    // Indexed and for-in loops allocate nothing, where Object.values made an array per object.
    // The value comes from JSON.parse: its objects are plain, their keys all own.
    let children = 0;
    if (Array.isArray(container)) {
      children = container.length;
      for (let index = 0; index < children; index += 1) visit(container[index], depth);
    } else {
      const object = container as Record<string, unknown>;
      for (const key in object) {
        children += 1;
        visit(object[key], depth);
      }
    }
    if (children === 0 && ++leaves > limits.maxLeaves) throw httpError("body-too-complex");
  }
  return { numbersRoundTrip };
}

function roundTrips(value: unknown): boolean {
  return typeof value !== "number" || (Number.isFinite(value) && !Object.is(value, -0));
}

/** One `path = value` line per leaf: strings bare, everything else (and multi-line strings) as JSON. */
export function formatFlattened(flat: Readonly<Record<string, unknown>>): string {
  const lines: string[] = [];
  for (const [path, value] of Object.entries(flat)) {
    lines.push(`${path} = ${formatValue(value)}`);
  }
  return lines.join("\n");
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must not print bare
const CONTROL = /[\u0000-\u001f\u007f]/;

function formatValue(value: unknown): string {
  if (typeof value === "string" && !CONTROL.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
}
