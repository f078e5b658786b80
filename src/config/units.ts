/**
 * Parsers for the unit strings of the documents. The schema patterns guarantee the syntax,
 * so these only convert; they still throw on malformed input to catch misuse.
 */
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const SIZE_BYTES = { b: 1, kb: 1024, mb: 1024 * 1024 } as const;
const RATE_WINDOW_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

function parseUnit<U extends string>(
  text: string,
  pattern: RegExp,
  units: Record<U, number>,
  what: string,
): number {
  const match = pattern.exec(text);
  if (!match) throw new Error(`"${text}" is not a ${what}`);
  return Number(match[1]) * units[match[2] as U];
}

/** "7d", "10s", "250ms" → milliseconds. */
export function parseDurationMs(text: string): number {
  return parseUnit(text, /^(\d+)(ms|s|m|h|d)$/, DURATION_MS, "duration such as 10s or 7d");
}

/** "1mb", "512kb", "100b" → bytes. */
export function parseSizeBytes(text: string): number {
  return parseUnit(text, /^(\d+)(b|kb|mb)$/, SIZE_BYTES, "size such as 1mb or 512kb");
}

export interface Rate {
  readonly points: number;
  readonly windowMs: number;
}

/** "50/s" → 50 requests per 1000 ms. */
export function parseRate(text: string): Rate {
  const match = /^(\d+)\/(s|m|h)$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a rate such as 50/s`);
  return { points: Number(match[1]), windowMs: RATE_WINDOW_MS[match[2] as keyof typeof RATE_WINDOW_MS] };
}
