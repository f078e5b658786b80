import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApiKeyDoc } from "../config/documents.js";
import { parseDurationMs } from "../config/units.js";
import { TOKEN_TTL_MAX_MS, TOKEN_TTL_MS } from "../defaults.js";
import { InletError } from "../errors.js";

/** An ApiKey document compiled for the token exchange and the jwt verifiers. */
export interface CompiledApiKey {
  readonly id: string;
  readonly enabled: boolean;
  readonly permissions: ReadonlySet<string>;
  readonly tokenTtlMs: number;
  /** SHA-256 of the secret; null when its secretEnv variable is unset, so no secret matches. */
  readonly secretDigest: Buffer | null;
}

const HASH_PREFIX = "sha256:";
const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
const SECRET_PREFIX = "inlet_sk_";
const SECRET_BYTES = 32;
const DIGEST_BYTES = 32;
// Compared against when a key has no digest, so every key costs the same comparison.
const NO_DIGEST = Buffer.alloc(DIGEST_BYTES);

export function compileApiKey(
  doc: ApiKeyDoc,
  env: Readonly<Record<string, string | undefined>>,
): CompiledApiKey {
  return Object.freeze({
    id: doc.id,
    enabled: doc.enabled ?? true,
    permissions: new Set(doc.permissions),
    tokenTtlMs: Math.min(
      doc.tokenTtl === undefined ? TOKEN_TTL_MS : parseDurationMs(doc.tokenTtl),
      TOKEN_TTL_MAX_MS,
    ),
    secretDigest: secretDigestOf(doc, env),
  });
}

function secretDigestOf(doc: ApiKeyDoc, env: Readonly<Record<string, string | undefined>>): Buffer | null {
  if (doc.secretHash !== undefined) {
    if (!HASH_PATTERN.test(doc.secretHash)) {
      throw new InletError(
        "invalid-secret-hash",
        `ApiKey ${doc.id}: secretHash must be sha256:<64 hex digits>`,
      );
    }
    return Buffer.from(doc.secretHash.slice(HASH_PREFIX.length), "hex");
  }
  const secret = doc.secretEnv === undefined ? undefined : env[doc.secretEnv];
  return secret === undefined || secret === "" ? null : digest(secret);
}

/** The `secretHash` value for a secret: "sha256:<hex>". */
export function hashSecret(secret: string): string {
  return HASH_PREFIX + digest(secret).toString("hex");
}

/** A new random secret; the prefix makes leaked keys recognisable to secret scanners. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString("base64url");
}

/**
 * The key whose secret this is, or undefined. Every key is compared in constant time and none
 * is skipped, so the time taken reveals neither which key matched nor how much of it.
 */
export function findApiKeyBySecret(
  keys: Iterable<CompiledApiKey>,
  secret: string,
): CompiledApiKey | undefined {
  const candidate = digest(secret);
  let found: CompiledApiKey | undefined;
  for (const key of keys) {
    const equal = timingSafeEqual(key.secretDigest ?? NO_DIGEST, candidate);
    if (equal && key.secretDigest !== null && found === undefined) found = key;
  }
  return found;
}

function digest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}
