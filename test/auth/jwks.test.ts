import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwksVerifier, KeySets } from "../../src/auth/jwks.js";
import { compileVerifier } from "../../src/auth/verifier.js";
import { JWKS_UNNAMED_KEEP_MS, TOKEN_MAX_BYTES } from "../../src/defaults.js";
import { HttpError } from "../../src/errors.js";

const ISSUER = "https://idp.example.com/";
const AUDIENCE = "inlet-shop";

/** A loopback server answering GET /jwks.json with `keys`, counting requests. */
async function startJwksServer(
  keys: JWK[],
): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = http.createServer((_req, res) => {
    count += 1;
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    requests: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A loopback server answering every request with `status` and `body`. */
async function startAnsweringServer(
  status: number,
  body: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { "Content-Type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nothing listens on any more, so a connection to it is refused. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<HttpError | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
}

describe("createJwksVerifier against a loopback JWKS server", () => {
  let idp: Awaited<ReturnType<typeof startJwksServer>>;
  let attacker: Awaited<ReturnType<typeof startJwksServer>>;
  let signingKey: CryptoKey;
  let attackerKey: CryptoKey;
  let attackerJwk: JWK;
  let signingJwk: JWK;
  let verify: (token: string) => Promise<void>;

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    signingKey = pair.privateKey;
    const attackerPair = await generateKeyPair("RS256", { extractable: true });
    attackerKey = attackerPair.privateKey;
    attackerJwk = { ...(await exportJWK(attackerPair.publicKey)), kid: "k1", alg: "RS256" };
    signingJwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    idp = await startJwksServer([signingJwk]);
    attacker = await startJwksServer([attackerJwk]);
    verify = createJwksVerifier({ url: idp.url, issuer: ISSUER, audience: AUDIENCE });
  });

  afterAll(async () => {
    await idp.close();
    await attacker.close();
  });

  function token(
    options: {
      key?: CryptoKey | Uint8Array;
      header?: Partial<JWTHeaderParameters>;
      iss?: string;
      aud?: string;
      iat?: boolean;
      exp?: string;
      claims?: Record<string, unknown>;
    } = {},
  ): Promise<string> {
    const jwt = new SignJWT(options.claims ?? {})
      .setProtectedHeader({ alg: "RS256", kid: "k1", ...options.header })
      .setSubject("shop-backend")
      .setIssuer(options.iss ?? ISSUER)
      .setAudience(options.aud ?? AUDIENCE)
      .setExpirationTime(options.exp ?? "5m");
    if (options.iat !== false) jwt.setIssuedAt();
    return jwt.sign(options.key ?? signingKey);
  }

  it("accepts an RS256 token signed by a key of the set", async () => {
    expect(await rejection(verify(await token()))).toBe("ok");
    expect(idp.requests()).toBeGreaterThan(0);
  });

  it("refuses an HS256 token, even one keyed with the set's public key material", async () => {
    const publicJwk = JSON.stringify(await fetch(idp.url).then((res) => res.json()));
    const hs256 = await token({ key: new TextEncoder().encode(publicJwk), header: { alg: "HS256" } });
    expect(await rejection(verify(hs256))).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("never follows a jku header to another key set", async () => {
    const forged = await token({ key: attackerKey, header: { jku: attacker.url } });
    expect(await rejection(verify(forged))).toMatchObject({ status: 401 });
    expect(attacker.requests()).toBe(0);
  });

  it("never trusts a key embedded in the jwk header", async () => {
    const forged = await token({ key: attackerKey, header: { jwk: attackerJwk } });
    expect(await rejection(verify(forged))).toMatchObject({ status: 401 });
    const noKid = await token({ key: attackerKey, header: { kid: undefined, jwk: attackerJwk } });
    expect(await rejection(verify(noKid))).toMatchObject({ status: 401 });
  });

  it.each([
    ["a wrong issuer", { iss: "https://evil.example.com/" }],
    ["a wrong audience", { aud: "someone-else" }],
    ["no iat", { iat: false }],
    ["an expired exp", { exp: "-5m" }],
    ["over 4 KiB", { claims: { pad: "x".repeat(TOKEN_MAX_BYTES) } }],
  ])("refuses a token with %s", async (_name, options) => {
    const error = await rejection(verify(await token(options)));
    expect(error).toMatchObject({
      status: 401,
      headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
    });
  });

  it("is what compileVerifier uses for auth.jwks, with the Bearer challenge when no token is sent", async () => {
    const verifier = compileVerifier(
      { type: "jwt", jwks: idp.url, issuer: ISSUER, audience: AUDIENCE },
      { apiKeys: new Map(), jwtKey: null, env: {}, keySets: new KeySets() },
    );
    expect(verifier.needsBody).toBe(false);
    const good = { headers: { authorization: `Bearer ${await token()}` }, rawBody: Buffer.alloc(0) };
    expect(await rejection(Promise.resolve(verifier.verify(good)))).toBe("ok");
    const none = await rejection(Promise.resolve(verifier.verify({ headers: {}, rawBody: Buffer.alloc(0) })));
    expect(none).toMatchObject({ status: 401, headers: { "WWW-Authenticate": "Bearer" } });
  });

  describe("when the key set cannot be fetched, answers 503 so the sender retries", () => {
    function unavailable(url: string): (token: string) => Promise<void> {
      return createJwksVerifier({ url, issuer: ISSUER, audience: AUDIENCE });
    }
    const expected = {
      status: 503,
      code: "identity-provider-unavailable",
      headers: { "Retry-After": expect.stringMatching(/^[1-9]\d*$/) },
    };

    it("refused connections", async () => {
      const verifyToken = unavailable(`http://127.0.0.1:${await closedPort()}/jwks.json`);
      expect(await rejection(verifyToken(await token()))).toMatchObject(expected);
    });

    it.each([
      ["a 500", 500, "internal error"],
      ["a 404", 404, "{}"],
      ["a body that is not JSON", 200, "<html>"],
      ["a JSON body that is not a JWK set", 200, '{"keys": "none"}'],
    ])("%s", async (_name, status, body) => {
      const server = await startAnsweringServer(status, body);
      try {
        expect(await rejection(unavailable(server.url)(await token()))).toMatchObject(expected);
      } finally {
        await server.close();
      }
    });
  });

  it("verifies with the last key set while the provider is down once that set is stale, fetching once", async () => {
    let down = false;
    let fetches = 0;
    const server = http.createServer((_req, res) => {
      fetches += 1;
      if (down) res.writeHead(500).end("down");
      else
        res
          .writeHead(200, { "Content-Type": "application/json" })
          .end(JSON.stringify({ keys: [signingJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    try {
      const verifyToken = createJwksVerifier({
        url,
        issuer: ISSUER,
        audience: AUDIENCE,
        keySets: new KeySets({ cacheMaxAgeMs: 20 }),
      });
      expect(await rejection(verifyToken(await token()))).toBe("ok");
      down = true;
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(await rejection(verifyToken(await token()))).toBe("ok");
      expect(fetches).toBe(2);
      // Within the Retry-After the 503 names, nobody waits on another fetch.
      expect(await rejection(verifyToken(await token()))).toBe("ok");
      expect(fetches).toBe(2);
      // A key the last set lacks may be a new one: the sender retries rather than mints again.
      const newKid = await token({ key: attackerKey, header: { kid: "k2" } });
      expect(await rejection(verifyToken(newKid))).toMatchObject({
        status: 503,
        code: "identity-provider-unavailable",
      });
      expect(await rejection(verifyToken(await token({ key: attackerKey })))).toMatchObject({ status: 401 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("gives every verifier of one provider a single key set, fetched once, and forgets providers no longer named", async () => {
    const keySets = new KeySets();
    const [first, second] = [0, 1].map(() =>
      createJwksVerifier({ url: idp.url, issuer: ISSUER, audience: AUDIENCE, keySets }),
    );
    const before = idp.requests();
    expect(await rejection(first!(await token()))).toBe("ok");
    expect(await rejection(second!(await token()))).toBe("ok");
    expect(idp.requests() - before).toBe(1);

    const kept = keySets.get(idp.url);
    keySets.retain(new Set([idp.url]), 0);
    expect(keySets.get(idp.url)).toBe(kept);
    // Unnamed for a moment (a file caught half-written), then named again: the set is kept.
    keySets.retain(new Set(), 1_000);
    keySets.retain(new Set(), 1_000 + JWKS_UNNAMED_KEEP_MS - 1);
    keySets.retain(new Set([idp.url]), 1_000 + JWKS_UNNAMED_KEEP_MS);
    expect(keySets.get(idp.url)).toBe(kept);
    // Unnamed for the whole keep: forgotten at the swap after it.
    keySets.retain(new Set(), 10_000_000);
    keySets.retain(new Set(), 10_000_000 + JWKS_UNNAMED_KEEP_MS);
    expect(keySets.get(idp.url)).not.toBe(kept);
  });

  it("still answers 401 for a token signed by a key not in a reachable set", async () => {
    // A fresh verifier, so the unknown kid is looked up in a set fetched for this very token.
    const fresh = createJwksVerifier({ url: idp.url, issuer: ISSUER, audience: AUDIENCE });
    const before = idp.requests();
    const unknownKid = await token({ key: attackerKey, header: { kid: "k2" } });
    expect(await rejection(fresh(unknownKid))).toMatchObject({ status: 401, code: "unauthorized" });
    expect(idp.requests()).toBeGreaterThan(before);
    const wrongKey = await token({ key: attackerKey });
    expect(await rejection(fresh(wrongKey))).toMatchObject({ status: 401, code: "unauthorized" });
    expect(await rejection(fresh("not.a.token"))).toMatchObject({ status: 401, code: "unauthorized" });
  });
});
