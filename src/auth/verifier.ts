import type { webcrypto } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { AuthConfig } from "../config/documents.js";
import { SIGNATURE_ALGORITHM, SIGNATURE_HEADER, SIGNATURE_PREFIX } from "../defaults.js";
import type { CompiledApiKey } from "./api-keys.js";
import { createJwksVerifier, type KeySets } from "./jwks.js";
import { bearerToken, importJwtKey, invalidTokenError, missingTokenError, verifyApiKeyToken } from "./jwt.js";
import { compileSignatureCheck } from "./signature.js";
import { VerifiedTokenCache } from "./token-cache.js";

export interface VerifyRequest {
  readonly headers: IncomingHttpHeaders;
  /** The decoded body; only read when `needsBody` is true (empty otherwise). */
  readonly rawBody: Buffer;
  /** The body as it came, when a Content-Encoding compressed it. */
  readonly receivedBody?: Buffer;
}

/**
 * An integration's auth, compiled once per snapshot. `verify` resolves (or returns) when the
 * request may proceed and throws/rejects with a 401 HttpError otherwise (a 503 when a JWKS key
 * set cannot be fetched).
 */
export interface Verifier {
  readonly type: AuthConfig["type"];
  /** true: call verify after reading the body (signatures); false: before, with an empty rawBody. */
  readonly needsBody: boolean;
  verify(request: VerifyRequest): Promise<void> | void;
}

export interface VerifierDeps {
  /** The ApiKeys of the same snapshot: disabling a key revokes its tokens at the next reload. */
  readonly apiKeys: ReadonlyMap<string, CompiledApiKey>;
  /** null when no JWT secret is configured: ApiKey tokens are then refused. */
  readonly jwtKey: Uint8Array | null;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The providers' key sets, shared across integrations and reloads (jwks.ts). */
  readonly keySets: KeySets;
}

export const INCOMING_PERMISSION = "incoming";

export function compileVerifier(auth: AuthConfig, deps: VerifierDeps): Verifier {
  switch (auth.type) {
    case "none":
      return Object.freeze({ type: auth.type, needsBody: false, verify: () => undefined });
    case "jwt":
      return Object.freeze({
        type: auth.type,
        needsBody: false,
        verify: "jwks" in auth ? compileJwksAuth(auth, deps.keySets) : compileApiKeyAuth(auth.apiKey, deps),
      });
    case "signature": {
      const check = compileSignatureCheck({
        secret: deps.env[auth.secretEnv],
        header: auth.header ?? SIGNATURE_HEADER,
        algorithm: auth.algorithm ?? SIGNATURE_ALGORITHM,
        prefix: auth.prefix ?? SIGNATURE_PREFIX,
      });
      return Object.freeze({
        type: auth.type,
        needsBody: true,
        verify: (request: VerifyRequest) => check(request.headers, request.rawBody, request.receivedBody),
      });
    }
    default: {
      const unknownAuth: never = auth;
      throw new Error(`unknown auth type ${JSON.stringify(unknownAuth)}`);
    }
  }
}

function compileJwksAuth(
  auth: { jwks: string; issuer: string; audience: string },
  keySets: KeySets,
): (request: VerifyRequest) => Promise<void> {
  const verifyToken = createJwksVerifier({
    url: auth.jwks,
    issuer: auth.issuer,
    audience: auth.audience,
    keySets,
  });
  return async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (token === null) throw missingTokenError();
    await verifyToken(token);
  };
}

function compileApiKeyAuth(
  apiKeyId: string,
  deps: VerifierDeps,
): (request: VerifyRequest) => Promise<void> | void {
  const apiKey = deps.apiKeys.get(apiKeyId);
  // Imported once per snapshot: handing jose raw bytes would import the key on every request.
  const verifyKey = deps.jwtKey === null ? null : importJwtKey(deps.jwtKey);
  // Decided once per snapshot: a token of a key that cannot be used is refused without crypto.
  const usable = apiKey !== undefined && apiKey.enabled && apiKey.permissions.has(INCOMING_PERMISSION);
  const verified = new VerifiedTokenCache();
  const verify = async (token: string, key: Promise<webcrypto.CryptoKey>): Promise<void> => {
    verified.add(token, await verifyApiKeyToken(token, { key: await key, expectedSub: apiKeyId }));
  };
  return (request) => {
    const token = bearerToken(request.headers.authorization);
    if (token === null) throw missingTokenError();
    if (!usable || verifyKey === null) throw invalidTokenError();
    // A token seen before answers synchronously: no crypto, no promise.
    if (verified.has(token, Date.now())) return undefined;
    return verify(token, verifyKey);
  };
}
