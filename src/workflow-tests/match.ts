/** One difference between what a test expected and what happened. */
export interface Mismatch {
  /** e.g. "calls[0].body.client.email" */
  readonly path: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

const MISSING = Symbol("missing");

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (/^[A-Za-z0-9_-]+$/.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/**
 * Subset match: every key of an expected object must be in the actual object and match there
 * (extra actual keys are fine); arrays match element by element and must have the same length;
 * anything else must be equal.
 */
export function matchSubset(expected: unknown, actual: unknown, path = ""): Mismatch[] {
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return [{ path, expected, actual }];
    return Object.entries(expected).flatMap(([key, value]) =>
      Object.hasOwn(actual, key)
        ? matchSubset(value, actual[key], join(path, key))
        : [{ path: join(path, key), expected: value, actual: MISSING }],
    );
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [{ path, expected, actual }];
    const mismatches = expected.flatMap((value, index) =>
      index < actual.length
        ? matchSubset(value, actual[index], join(path, index))
        : [{ path: join(path, index), expected: value, actual: MISSING }],
    );
    if (actual.length > expected.length) {
      mismatches.push({ path: join(path, "length"), expected: expected.length, actual: actual.length });
    }
    return mismatches;
  }
  return Object.is(expected, actual) ? [] : [{ path, expected, actual }];
}

function show(value: unknown): string {
  if (value === MISSING) return "(missing)";
  if (value === undefined) return "(undefined)";
  return JSON.stringify(value) ?? String(value);
}

/** One line per difference: `path: expected X, got Y`. */
export function formatMismatches(mismatches: readonly Mismatch[]): string[] {
  return mismatches.map(
    ({ path, expected, actual }) => `${path || "(value)"}: expected ${show(expected)}, got ${show(actual)}`,
  );
}
