import { SCRUBBED_CREDENTIAL_MIN_CHARS } from "../defaults.js";
import { REDACTED, REDACTED_HEADERS } from "../ingest/event.js";

/**
 * A name that says its value is a secret, by its words (split at `-`, `_`, `.` and camelCase):
 * X-Api-Key, X-Auth-Token, access_token, client_secret, apiKey, a query's bare `key` (as Google's
 * APIs take it). Idempotency-Key or X-Request-Id are not: `key` alone counts only as the whole name.
 */
const SECRET_WORDS =
  /(?:^|\.)(?:token|secret|password|passwd|pwd|passphrase|signature|sig|credentials?|auth|authorization|jwt|session|sessionid|apikey|(?:api|access|private)\.key)(?:\.|$)|^key$/;

/** Whether a header or query parameter name says its value is a credential, whatever the node's auth. */
export function isCredentialName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1.$2")
    .toLowerCase()
    .replace(/[-_.\s]+/g, ".");
  return SECRET_WORDS.test(words);
}

/** Whether a header's value is a credential, never kept in run records: `authHeader` is the node's own. */
export function isCredentialHeader(name: string, authHeader: string | undefined): boolean {
  const lower = name.toLowerCase();
  return REDACTED_HEADERS.has(lower) || lower === authHeader?.toLowerCase() || isCredentialName(name);
}

/**
 * The credentials an outgoing request carried, so that a receiver echoing them back (an error
 * page quoting the Authorization header, an echo service) cannot put them in a run record or a
 * log line: each header value that is redacted in records, and its token without the scheme
 * ("Bearer <token>"), each query value redacted in the recorded URL, and any secret the node's
 * auth rendered apart from its header (a password).
 */
export class SentCredentials {
  readonly #secrets: readonly string[];

  constructor(
    headers: Readonly<Record<string, string>>,
    authHeader: string | undefined,
    extra: readonly string[],
    url: URL,
  ) {
    const found = new Set(extra);
    for (const [name, value] of url.searchParams) if (isCredentialName(name)) found.add(value);
    for (const [name, value] of Object.entries(headers)) {
      if (!isCredentialHeader(name, authHeader)) continue;
      found.add(value);
      const space = value.indexOf(" ");
      if (space !== -1) found.add(value.slice(space + 1).trim());
    }
    // Longest first, so that a token is not half-replaced inside its own header value.
    this.#secrets = [...found]
      .filter((secret) => secret.length >= SCRUBBED_CREDENTIAL_MIN_CHARS)
      .sort((a, b) => b.length - a.length);
  }

  /** `value` with every credential replaced by [redacted], strings inside arrays and objects too. */
  scrub<T>(value: T): T {
    return this.#secrets.length === 0 ? value : (this.#scrubValue(value) as T);
  }

  #scrubValue(value: unknown): unknown {
    if (typeof value === "string") return this.#scrubText(value);
    if (Array.isArray(value)) return value.map((item) => this.#scrubValue(item));
    if (value !== null && typeof value === "object") {
      // No prototype, so a key named __proto__ stays an ordinary key.
      const copy = Object.create(null) as Record<string, unknown>;
      for (const [key, item] of Object.entries(value)) copy[this.#scrubText(key)] = this.#scrubValue(item);
      return copy;
    }
    return value;
  }

  #scrubText(text: string): string {
    let scrubbed = text;
    for (const secret of this.#secrets) scrubbed = scrubbed.replaceAll(secret, REDACTED);
    return scrubbed;
  }
}
