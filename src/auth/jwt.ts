import { randomUUID, type webcrypto } from "node:crypto";
import { jwtVerify, SignJWT, type JWTVerifyOptions } from "jose";
import {
  CLOCK_TOLERANCE_S,
  JWT_AUDIENCE,
  JWT_ISSUER,
  JWT_SECRET_MIN_BYTES,
  TOKEN_MAX_BYTES,
  TOKEN_TTL_MAX_MS,
} from "../defaults.js";
import { HttpError, InletError } from "../errors.js";
import { httpError } from "../http-errors.js";
import { findApiKeyBySecret, type CompiledApiKey } from "./api-keys.js";

const ALGORITHM = "HS256";
const BEARER = /^Bearer +([^\s]+) *$/i;

/** RFC 6750: a request without credentials gets the bare challenge, a bad token an error code. */
export function missingTokenError(): HttpError {
  return httpError("unauthorized", { headers: { "WWW-Authenticate": "Bearer" } });
}

export function invalidTokenError(cause?: unknown): HttpError {
  return httpError("unauthorized", {
    headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
    cause,
  });
}

/** The token of an `Authorization: Bearer …` header; tokens are never read from the query string. */
export function bearerToken(authorizationHeader: string | undefined): string | null {
  if (authorizationHeader === undefined) return null;
  return BEARER.exec(authorizationHeader)?.[1] ?? null;
}

/** Refused before any parsing or crypto, so a huge token costs nothing. */
export function checkTokenSize(token: string): void {
  if (token.length > TOKEN_MAX_BYTES || Buffer.byteLength(token, "utf8") > TOKEN_MAX_BYTES) {
    throw invalidTokenError();
  }
}

/** The HS256 key from INLET_JWT_SECRET (or the generated one kept in the store). */
export function resolveJwtKey(secretText: string): Uint8Array {
  const key = new TextEncoder().encode(secretText);
  if (key.length < JWT_SECRET_MIN_BYTES) {
    throw new InletError(
      "jwt-secret-too-short",
      `INLET_JWT_SECRET must be at least ${JWT_SECRET_MIN_BYTES} bytes (it has ${key.length})`,
    );
  }
  return key;
}

export async function mintToken(options: {
  key: Uint8Array;
  apiKeyId: string;
  ttlMs: number;
  now?: Date;
}): Promise<{ token: string; expiresAt: Date }> {
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const expiresAt = issuedAt + Math.floor(options.ttlMs / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(options.apiKeyId)
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(options.key);
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

const VERIFY_OPTIONS: JWTVerifyOptions = Object.freeze({
  algorithms: [ALGORITHM],
  issuer: JWT_ISSUER,
  audience: JWT_AUDIENCE,
  requiredClaims: ["exp", "iat", "sub"],
  clockTolerance: CLOCK_TOLERANCE_S,
  // Also refuses an iat in the future, and any token older than the longest TTL we issue.
  maxTokenAge: TOKEN_TTL_MAX_MS / 1000,
});

/**
 * Verifies a token issued by mintToken for `expectedSub`. Any failure is the same 401, so a
 * client learns nothing about which check failed. Resolves to the time (ms) from which the token
 * would be refused: its expiry or its maximum age, whichever comes first, plus the clock tolerance.
 */
export async function verifyApiKeyToken(
  token: string,
  options: { key: Uint8Array | webcrypto.CryptoKey; expectedSub: string; now?: Date },
): Promise<number> {
  checkTokenSize(token);
  try {
    const { payload } = await jwtVerify(
      token,
      options.key,
      Object.assign({}, VERIFY_OPTIONS, { subject: options.expectedSub, currentDate: options.now }),
    );
    // requiredClaims guarantees both.
    const lastValidS = Math.min(payload.exp!, payload.iat! + TOKEN_TTL_MAX_MS / 1000);
    return (lastValidS + CLOCK_TOLERANCE_S) * 1000;
  } catch (error) {
    throw invalidTokenError(error);
  }
}

/** The HS256 verification key as a CryptoKey, so it is imported once rather than per verify. */
export function importJwtKey(key: Uint8Array): Promise<webcrypto.CryptoKey> {
  return crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

/** SPEC 3: an API key secret for a token. Unknown, disabled and wrong keys are one 401. */
export async function exchangeApiKey(
  secret: string,
  options: { apiKeys: Iterable<CompiledApiKey>; key: Uint8Array; now?: Date },
): Promise<{ token: string; tokenType: "Bearer"; expiresAt: string }> {
  const apiKey = findApiKeyBySecret(options.apiKeys, secret);
  if (!apiKey || !apiKey.enabled) throw httpError("invalid-api-key");
  const { token, expiresAt } = await mintToken({
    key: options.key,
    apiKeyId: apiKey.id,
    ttlMs: apiKey.tokenTtlMs,
    now: options.now,
  });
  return { token, tokenType: "Bearer", expiresAt: expiresAt.toISOString() };
}
