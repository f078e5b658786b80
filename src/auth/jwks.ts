import { createRemoteJWKSet, jwtVerify, type JWSAlgorithm, type JWTVerifyOptions } from "jose";
import { CLOCK_TOLERANCE_S } from "../defaults.js";
import { checkTokenSize, invalidTokenError } from "./jwt.js";

/**
 * Asymmetric algorithms only: with a symmetric one, a public key from the JWK set could be used
 * as an HMAC secret to forge tokens.
 */
const ASYMMETRIC_ALGORITHMS: JWSAlgorithm[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/**
 * A verifier for tokens minted by the sender's own identity provider. Keys come only from `url`
 * (jose caches them and refetches on an unknown `kid`); header fields such as jku, x5u or jwk
 * are never used to find a key.
 */
export function createJwksVerifier(options: {
  url: string;
  issuer: string;
  audience: string;
}): (token: string) => Promise<void> {
  const keySet = createRemoteJWKSet(new URL(options.url));
  const verifyOptions: JWTVerifyOptions = Object.freeze({
    algorithms: ASYMMETRIC_ALGORITHMS,
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ["exp", "iat"],
    clockTolerance: CLOCK_TOLERANCE_S,
  });
  return async (token) => {
    checkTokenSize(token);
    try {
      await jwtVerify(token, keySet, verifyOptions);
    } catch (error) {
      throw invalidTokenError(error);
    }
  };
}
