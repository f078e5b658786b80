/** The envelope of one accepted request: what is recorded durably and what workflows receive. */
export interface IncomingEvent {
  readonly eventId: string;
  readonly integration: string;
  readonly endpointId: string;
  readonly method: string;
  /** ms since epoch, when the request arrived. */
  readonly time: number;
  /** Lower-case names; Authorization and Cookie redacted. */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[]>>;
  readonly body: unknown;
}

export const REDACTED = "[redacted]";
/** Headers whose values never leave the request: not stored, sampled, logged or templated. */
export const REDACTED_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "cookie",
  "proxy-authorization",
]);

export function redactHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    out[lower] = REDACTED_HEADERS.has(lower) ? REDACTED : Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
