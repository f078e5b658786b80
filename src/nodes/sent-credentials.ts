import { SCRUBBED_CREDENTIAL_MIN_CHARS } from "../defaults.js";
import { REDACTED, REDACTED_HEADERS } from "../ingest/event.js";

/** Words that name a secret wherever they stand in a header or query parameter name. */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  "secret",
  "password",
  "passwd",
  "pwd",
  "pass",
  "passphrase",
  "signature",
  "sig",
  "credential",
  "credentials",
  "auth",
  "authorization",
  "jwt",
  "session",
  "sessionid",
]);
/** Endings that make a run-together word a secret: refreshtoken, idtoken, appsecret, userpassword. */
const SECRET_ENDINGS = ["token", "secret", "password"];
/** Words that make `key` after them (or run together with it) a secret: X-Api-Key, app_key, appkey. */
const KEY_QUALIFIERS: ReadonlySet<string> = new Set([
  "api",
  "access",
  "private",
  "subscription",
  "app",
  "application",
  "functions",
  "master",
  "signing",
  "client",
]);
/** Words that make `token` after them (or run together with it) a place in a listing: pageToken. */
const PAGING_WORDS: ReadonlySet<string> = new Set([
  "page",
  "next",
  "continuation",
  "pagination",
  "sync",
  "cursor",
]);

/**
 * Words that, after a secret's word, make the name describe the secret rather than hold it:
 * auth_type, token_endpoint_auth_method, password_expires_at, token_type_hint.
 */
const DESCRIPTOR_WORDS: ReadonlySet<string> = new Set([
  "type",
  "method",
  "mode",
  "scheme",
  "kind",
  "hint",
  "expires",
  "expiry",
  "expiration",
  "length",
  "policy",
  "reset",
  "required",
  "changed",
  "created",
  "updated",
  "at",
  "url",
  "uri",
  "endpoint",
  "format",
  "algorithm",
  "alg",
]);

function isSecretWord(written: string, before: string | undefined, after: string | undefined): boolean {
  if (after !== undefined && DESCRIPTOR_WORDS.has(after)) return false;
  // A list of them is as secret as one: apiKeys, tokens, client_secrets.
  const plural = written.length > 3 && written.endsWith("s") && !SECRET_WORDS.has(written);
  const word = plural ? written.slice(0, -1) : written;
  if (word === "key") return before !== undefined && KEY_QUALIFIERS.has(before);
  if (word === "token") return !(before !== undefined && PAGING_WORDS.has(before));
  if (SECRET_WORDS.has(word)) return true;
  for (const ending of SECRET_ENDINGS) {
    if (word.endsWith(ending)) return !PAGING_WORDS.has(word.slice(0, -ending.length));
  }
  return word.endsWith("key") && KEY_QUALIFIERS.has(word.slice(0, -"key".length));
}

/**
 * Whether a header or query parameter name says its value is a credential, whatever the node's
 * auth: X-Api-Key, X-Auth-Token, access_token, client_secret, apiKey, appsecret, a query's bare
 * `key` (as Google's APIs take it). Judged by its words (split at anything not a letter, at
 * camelCase and after an acronym), so Idempotency-Key, X-Request-Id, pageToken and
 * token_type_hint are kept.
 */
export function isCredentialName(name: string): boolean {
  const words = nameWords(name);
  if (words.length === 1 && words[0] === "key") return true;
  return hasSecretWord(words);
}

/**
 * Whether a field of a sent body is named as a credential: as a header or query parameter is, but
 * a bare `key` is data there (an issue key, an object key), not Google's API key.
 */
export function isCredentialField(name: string): boolean {
  return hasSecretWord(nameWords(name));
}

function nameWords(name: string): string[] {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((word) => word !== "");
}

function hasSecretWord(words: readonly string[]): boolean {
  return words.some((word, i) => isSecretWord(word, words[i - 1], words[i + 1]));
}

/**
 * Which of a node's header names (lower-case) carry a credential, never kept in run records:
 * `authHeader` is the node's own. Its header names are in its config, so this is known at compile.
 */
export function credentialHeaderNames(
  names: Iterable<string>,
  authHeader: string | undefined,
): ReadonlySet<string> {
  const credentials = new Set<string>();
  if (authHeader !== undefined) credentials.add(authHeader.toLowerCase());
  for (const name of names) {
    if (REDACTED_HEADERS.has(name.toLowerCase()) || isCredentialName(name))
      credentials.add(name.toLowerCase());
  }
  return credentials;
}

/** A sent body as kept in run records, and the credential values it carried, for the scrub. */
export interface RecordedBody {
  readonly body: unknown;
  readonly secrets: readonly string[];
}

/**
 * The body an outgoing node sent, as its run record keeps it: in JSON (a structured body, or text
 * sent as JSON), each field named as a credential (client_secret, password, refresh_token) has its
 * value redacted, nested fields included; in a form (application/x-www-form-urlencoded, as an OAuth
 * token request sends it), each such parameter. Other text is kept as sent: nothing in it names
 * its parts. A flag (`true`/`false`) or null named so is kept: it holds no secret.
 */
export function recordedBody(shown: unknown, contentType: string | undefined): RecordedBody {
  const secrets: string[] = [];
  if (typeof shown === "string") {
    if (!isFormContentType(contentType)) return { body: shown, secrets };
    const parts = formParts(shown, isCredentialField);
    for (const part of parts) if (part.credential) secrets.push(part.value, part.rawValue);
    return { body: secrets.length > 0 ? withRedactedParts(parts) : shown, secrets };
  }
  return { body: redactFields(shown, secrets), secrets };
}

function isFormContentType(contentType: string | undefined): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === "application/x-www-form-urlencoded";
}

function holdsSecret(value: unknown): boolean {
  return value !== null && typeof value !== "boolean";
}

/**
 * `value` with the values of credential-named fields redacted, and what they held added to
 * `secrets` (see credentialValues); `value` itself where nothing in it is redacted.
 */
function redactFields(value: unknown, secrets: string[]): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => redactFields(item, secrets));
    return items.some((item, index) => item !== value[index]) ? items : value;
  }
  if (value === null || typeof value !== "object") return value;
  // No prototype, so a key named __proto__ stays an ordinary key.
  const copy = Object.create(null) as Record<string, unknown>;
  let changed = false;
  for (const [key, item] of Object.entries(value)) {
    if (isCredentialField(key) && holdsSecret(item)) {
      credentialValues(item, secrets);
      copy[key] = REDACTED;
      changed = true;
    } else {
      copy[key] = redactFields(item, secrets);
      changed ||= copy[key] !== item;
    }
  }
  return changed ? copy : value;
}

/**
 * What a credential-named field holds, for the scrub: a string or number, each item of an array,
 * and in an object its `value` and the fields named as credentials too. An object under
 * `credentials` also holds the user's email, which the answer may carry and a later node read: it
 * is hidden in the record of what was sent, but not scrubbed from the answer.
 */
function credentialValues(value: unknown, into: string[]): void {
  if (typeof value === "string" || typeof value === "number") into.push(String(value));
  else if (Array.isArray(value)) for (const item of value) credentialValues(item, into);
  else if (value !== null && typeof value === "object") {
    // A credential given as {type, value}, as Keycloak and SCIM take a user's password.
    if ("value" in value) credentialValues(value.value, into);
    redactFields(value, into);
  }
}

/** `parts` joined as sent, each credential part's value redacted. */
export function withRedactedParts(parts: readonly QueryPart[]): string {
  return parts.map((part) => (part.credential ? `${part.rawName}=${REDACTED}` : part.text)).join("&");
}

/** One parameter of a URL's query or of a form body as sent (`text`, percent-encoded), and what it reads as. */
export interface QueryPart {
  readonly text: string;
  readonly rawName: string;
  readonly rawValue: string;
  readonly value: string;
  /** Its name says it holds a credential. */
  readonly credential: boolean;
}

/** The URL's query part by part, as sent: a record redacts a part without re-encoding the rest. */
export function queryParts(url: URL): QueryPart[] {
  return url.search === "" ? [] : formParts(url.search.slice(1), isCredentialName);
}

/** `a=1&b=2` (a query without its `?`, or a form body) part by part, each judged by `isCredential`. */
function formParts(encoded: string, isCredential: (name: string) => boolean): QueryPart[] {
  return encoded.split("&").map((text) => {
    // Decoded as URLSearchParams reads it (`+` is a space, `%5F` an underscore).
    const [name = "", value = ""] = [...new URLSearchParams(text)][0] ?? [];
    const equals = text.indexOf("=");
    return {
      text,
      rawName: equals === -1 ? text : text.slice(0, equals),
      rawValue: equals === -1 ? "" : text.slice(equals + 1),
      value,
      credential: isCredential(name),
    };
  });
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
  /** The same, to find a number that is one (a PIN sent as a string and echoed as a number). */
  readonly #whole: ReadonlySet<string>;

  constructor(
    headers: Readonly<Record<string, string>>,
    credentialHeaders: ReadonlySet<string>,
    extra: readonly string[],
    query: readonly QueryPart[],
  ) {
    const found = new Set(extra);
    for (const part of query) {
      if (!part.credential) continue;
      found.add(part.value);
      // As sent, percent-encoded: an echo of the URL quotes it so.
      found.add(part.rawValue);
    }
    for (const [name, value] of Object.entries(headers)) {
      if (!credentialHeaders.has(name.toLowerCase())) continue;
      found.add(value);
      const space = value.indexOf(" ");
      if (space !== -1) found.add(value.slice(space + 1).trim());
    }
    for (const secret of [...found]) {
      // As a JSON string holds it, quotes and backslashes escaped: an echo of a JSON body quotes it so.
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret) found.add(escaped);
    }
    // Longest first, so that a token is not half-replaced inside its own header value.
    this.#secrets = [...found]
      .filter((secret) => secret.length >= SCRUBBED_CREDENTIAL_MIN_CHARS)
      .sort((a, b) => b.length - a.length);
    this.#whole = new Set(this.#secrets);
  }

  /** `value` with every credential replaced by [redacted], strings inside arrays and objects too. */
  scrub<T>(value: T): T {
    return this.#secrets.length === 0 ? value : (this.#scrubValue(value) as T);
  }

  #scrubValue(value: unknown): unknown {
    if (typeof value === "string") return this.#scrubText(value);
    if (typeof value === "number") return this.#whole.has(String(value)) ? REDACTED : value;
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
