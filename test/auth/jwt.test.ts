import { SignJWT, base64url } from "jose";
import { describe, expect, it } from "vitest";
import { compileApiKey, hashSecret } from "../../src/auth/api-keys.js";
import {
  bearerToken,
  exchangeApiKey,
  mintToken,
  resolveJwtKey,
  verifyApiKeyToken,
} from "../../src/auth/jwt.js";
import { CLOCK_TOLERANCE_S, JWT_AUDIENCE, JWT_ISSUER, TOKEN_MAX_BYTES } from "../../src/defaults.js";
import { HttpError, InletError } from "../../src/errors.js";

const key = resolveJwtKey("a-test-signing-secret-of-at-least-32-bytes!");
const otherKey = resolveJwtKey("another-signing-secret-of-at-least-32-bytes");
const HOUR_MS = 3_600_000;

async function rejection(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(error)}`);
  return error;
}

/** A token with chosen claims, signed with `signingKey`; `omit` drops a standard claim. */
async function craft(options: {
  sub?: string;
  iss?: string;
  aud?: string;
  omit?: "exp" | "iat";
  expSeconds?: number;
  extra?: Record<string, unknown>;
  signingKey?: Uint8Array;
}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(options.extra ?? {})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(options.sub ?? "shop")
    .setIssuer(options.iss ?? JWT_ISSUER)
    .setAudience(options.aud ?? JWT_AUDIENCE)
    .setJti("j");
  if (options.omit !== "iat") jwt.setIssuedAt(now);
  if (options.omit !== "exp") jwt.setExpirationTime(now + (options.expSeconds ?? 3600));
  return jwt.sign(options.signingKey ?? key);
}

const verify = (token: string) => verifyApiKeyToken(token, { key, expectedSub: "shop" });

describe("mintToken / verifyApiKeyToken", () => {
  it("mints a token with the SPEC's claims that verifies for its ApiKey", async () => {
    const now = new Date();
    const { token, expiresAt } = await mintToken({ key, apiKeyId: "shop", ttlMs: HOUR_MS, now });
    // Valid until its expiry plus the clock tolerance: what a verifier may cache it for.
    await expect(verify(token)).resolves.toBe(expiresAt.getTime() + CLOCK_TOLERANCE_S * 1000);
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(new TextDecoder().decode(base64url.decode(part!))));
    expect(header).toMatchObject({ alg: "HS256" });
    expect(payload).toMatchObject({ sub: "shop", iss: "inlet", aud: "inlet:incoming" });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.exp - payload.iat).toBe(3600);
    expect(expiresAt.getTime()).toBe(payload.exp * 1000);
    expect(Math.abs(expiresAt.getTime() - now.getTime() - HOUR_MS)).toBeLessThan(1000);
  });

  it("accepts a token expired within the clock tolerance, refuses one beyond it", async () => {
    const longAgo = (seconds: number) => new Date(Date.now() - seconds * 1000);
    const within = await mintToken({
      key,
      apiKeyId: "shop",
      ttlMs: HOUR_MS,
      now: longAgo(3600 + CLOCK_TOLERANCE_S / 2),
    });
    await expect(verify(within.token)).resolves.toBe(within.expiresAt.getTime() + CLOCK_TOLERANCE_S * 1000);
    const beyond = await mintToken({
      key,
      apiKeyId: "shop",
      ttlMs: HOUR_MS,
      now: longAgo(3600 + CLOCK_TOLERANCE_S * 2),
    });
    expect((await rejection(verify(beyond.token))).status).toBe(401);
  });

  const failures: [string, () => Promise<string>][] = [
    [
      "alg: none",
      async () => {
        const encode = (value: object) => base64url.encode(JSON.stringify(value));
        const now = Math.floor(Date.now() / 1000);
        const claims = { sub: "shop", iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 60 };
        return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
      },
    ],
    ["a wrong secret", () => craft({ signingKey: otherKey })],
    ["a missing exp", () => craft({ omit: "exp" })],
    ["a missing iat", () => craft({ omit: "iat" })],
    ["a wrong aud", () => craft({ aud: "someone-else" })],
    ["a wrong iss", () => craft({ iss: "someone-else" })],
    ["another ApiKey's sub", () => craft({ sub: "other" })],
    ["a token over 4 KiB", () => craft({ extra: { pad: "x".repeat(TOKEN_MAX_BYTES) } })],
    ["an expired token", () => craft({ expSeconds: -2 * CLOCK_TOLERANCE_S })],
    ["garbage", async () => "not.a.jwt"],
    [
      "an HS512 token",
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: "HS512" })
          .setSubject("shop")
          .setIssuer(JWT_ISSUER)
          .setAudience(JWT_AUDIENCE)
          .setIssuedAt()
          .setExpirationTime("1h")
          .sign(key),
    ],
  ];

  it.each(failures)("refuses %s with 401 and an invalid_token challenge", async (_name, makeToken) => {
    const error = await rejection(verify(await makeToken()));
    expect(error).toMatchObject({ status: 401, code: "unauthorized" });
    expect(error.headers["WWW-Authenticate"]).toBe('Bearer error="invalid_token"');
  });

  it("verifies a token just under 4 KiB", async () => {
    // base64url turns 3 bytes into 4 characters.
    const token = await craft({ extra: { pad: "x".repeat(((TOKEN_MAX_BYTES - 400) * 3) / 4) } });
    expect(token.length).toBeGreaterThan(TOKEN_MAX_BYTES - 200);
    expect(token.length).toBeLessThanOrEqual(TOKEN_MAX_BYTES);
    await expect(verify(token)).resolves.toEqual(expect.any(Number));
  });
});

describe("bearerToken", () => {
  it("reads the token of an Authorization: Bearer header only", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer  abc")).toBe("abc");
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken("Bearer ")).toBeNull();
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeNull();
    expect(bearerToken("Bearer a b")).toBeNull();
  });
});

describe("exchangeApiKey", () => {
  const apiKeys = [
    compileApiKey(
      {
        kind: "ApiKey",
        id: "shop",
        secretHash: hashSecret("shop-secret"),
        permissions: ["incoming"],
        tokenTtl: "10m",
      },
      {},
    ),
    compileApiKey(
      {
        kind: "ApiKey",
        id: "off",
        secretHash: hashSecret("off-secret"),
        permissions: ["incoming"],
        enabled: false,
      },
      {},
    ),
  ];

  it("exchanges a valid secret for a Bearer token of the key's TTL", async () => {
    const now = new Date("2030-01-01T00:00:00.000Z");
    const answer = await exchangeApiKey("shop-secret", { apiKeys, key, now });
    expect(answer).toMatchObject({ tokenType: "Bearer", expiresAt: "2030-01-01T00:10:00.000Z" });
    await expect(
      verifyApiKeyToken(answer.token, { key, expectedSub: "shop", now: new Date("2030-01-01T00:05:00Z") }),
    ).resolves.toEqual(expect.any(Number));
  });

  it.each(["unknown-secret", "off-secret", ""])("refuses %j with 401 invalid-api-key", async (secret) => {
    const error = await rejection(exchangeApiKey(secret, { apiKeys, key }));
    expect(error).toMatchObject({ status: 401, code: "invalid-api-key" });
  });
});

describe("resolveJwtKey", () => {
  it("refuses a secret shorter than 32 bytes with a typed error", () => {
    expect(() => resolveJwtKey("short")).toThrow(InletError);
    expect(() => resolveJwtKey("short")).toThrow(/at least 32 bytes/);
    expect(resolveJwtKey("é".repeat(16)).length).toBe(32);
  });
});
