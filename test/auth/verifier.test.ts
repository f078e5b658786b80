import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { compileApiKey, hashSecret, type CompiledApiKey } from "../../src/auth/api-keys.js";
import { KeySets } from "../../src/auth/jwks.js";
import { mintToken, resolveJwtKey } from "../../src/auth/jwt.js";
import { compileVerifier, type Verifier, type VerifyRequest } from "../../src/auth/verifier.js";
import type { ApiKeyDoc } from "../../src/config/documents.js";
import { HttpError } from "../../src/errors.js";

const jwtKey = resolveJwtKey("a-test-signing-secret-of-at-least-32-bytes!");
const apiKeyDocs: ApiKeyDoc[] = [
  { kind: "ApiKey", id: "shop", secretHash: hashSecret("s1"), permissions: ["incoming"] },
  { kind: "ApiKey", id: "other", secretHash: hashSecret("s2"), permissions: ["incoming"] },
  { kind: "ApiKey", id: "no-perm", secretHash: hashSecret("s3"), permissions: [] },
  { kind: "ApiKey", id: "disabled", secretHash: hashSecret("s4"), permissions: ["incoming"], enabled: false },
];
const apiKeys: ReadonlyMap<string, CompiledApiKey> = new Map(
  apiKeyDocs.map((doc) => [doc.id, compileApiKey(doc, {})]),
);
const deps = { apiKeys, jwtKey, env: { HOOK_SECRET: "hook-secret" }, keySets: new KeySets() };
const EMPTY = Buffer.alloc(0);

async function outcome(verifier: Verifier, request: VerifyRequest): Promise<HttpError | "ok"> {
  try {
    await verifier.verify(request);
    return "ok";
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
}

const bearer = async (apiKeyId: string) => {
  const { token } = await mintToken({ key: jwtKey, apiKeyId, ttlMs: 60_000 });
  return { headers: { authorization: `Bearer ${token}` }, rawBody: EMPTY };
};

describe("compileVerifier", () => {
  it("none: lets every request through synchronously, before the body", () => {
    const verifier = compileVerifier({ type: "none" }, deps);
    expect(verifier).toMatchObject({ type: "none", needsBody: false });
    expect(verifier.verify({ headers: {}, rawBody: EMPTY })).toBeUndefined();
  });

  describe("jwt with an ApiKey", () => {
    const verifier = compileVerifier({ type: "jwt", apiKey: "shop" }, deps);

    it("accepts a token issued for the ApiKey, before the body", async () => {
      expect(verifier).toMatchObject({ type: "jwt", needsBody: false });
      expect(await outcome(verifier, await bearer("shop"))).toBe("ok");
    });

    it("checks a token's signature once: later requests with it pass synchronously, a forged one still fails", async () => {
      const fresh = compileVerifier({ type: "jwt", apiKey: "shop" }, deps);
      const request = await bearer("shop");
      expect(fresh.verify(request)).toBeInstanceOf(Promise);
      expect(await outcome(fresh, request)).toBe("ok");
      expect(fresh.verify(request)).toBeUndefined();
      const token = request.headers.authorization.slice("Bearer ".length);
      const forged = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
      expect(
        await outcome(fresh, { headers: { authorization: `Bearer ${forged}` }, rawBody: EMPTY }),
      ).toMatchObject({
        status: 401,
      });
    });

    it("answers a request without a token with the bare Bearer challenge", async () => {
      const error = await outcome(verifier, { headers: {}, rawBody: EMPTY });
      expect(error).toMatchObject({
        status: 401,
        code: "unauthorized",
        headers: { "WWW-Authenticate": "Bearer" },
      });
    });

    it("never reads a token from anything but the Authorization header", async () => {
      const { headers } = await bearer("shop");
      const error = await outcome(verifier, {
        headers: { "x-token": headers.authorization },
        rawBody: EMPTY,
      });
      expect(error).toMatchObject({ status: 401 });
    });

    it("refuses another ApiKey's token", async () => {
      const error = await outcome(verifier, await bearer("other"));
      expect(error).toMatchObject({
        status: 401,
        headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
      });
    });

    it.each(["no-perm", "disabled", "missing"])("refuses every token when the ApiKey is %s", async (id) => {
      const own = compileVerifier({ type: "jwt", apiKey: id }, deps);
      expect(await outcome(own, await bearer(id))).toMatchObject({ status: 401, code: "unauthorized" });
    });

    it("revokes tokens when the key is disabled in the next snapshot", async () => {
      const request = await bearer("shop");
      const disabled = new Map(apiKeys).set("shop", compileApiKey({ ...apiKeyDocs[0]!, enabled: false }, {}));
      const next = compileVerifier({ type: "jwt", apiKey: "shop" }, { ...deps, apiKeys: disabled });
      expect(await outcome(verifier, request)).toBe("ok");
      expect(await outcome(next, request)).toMatchObject({ status: 401 });
    });

    it("refuses every token when no JWT secret is configured", async () => {
      const noKey = compileVerifier({ type: "jwt", apiKey: "shop" }, { ...deps, jwtKey: null });
      expect(await outcome(noKey, await bearer("shop"))).toMatchObject({ status: 401 });
    });
  });

  describe("signature", () => {
    const verifier = compileVerifier({ type: "signature", secretEnv: "HOOK_SECRET" }, deps);
    const rawBody = Buffer.from('{"a":1}');
    const signature = `sha256=${createHmac("sha256", "hook-secret").update(rawBody).digest("hex")}`;

    it("needs the body and checks Meta's default header", async () => {
      expect(verifier).toMatchObject({ type: "signature", needsBody: true });
      expect(await outcome(verifier, { headers: { "x-hub-signature-256": signature }, rawBody })).toBe("ok");
      expect(await outcome(verifier, { headers: {}, rawBody })).toMatchObject({ code: "invalid-signature" });
    });

    it("refuses everything when its secret variable is unset", async () => {
      const unset = compileVerifier({ type: "signature", secretEnv: "UNSET" }, deps);
      expect(await outcome(unset, { headers: { "x-hub-signature-256": signature }, rawBody })).toMatchObject({
        code: "invalid-signature",
      });
    });
  });
});
