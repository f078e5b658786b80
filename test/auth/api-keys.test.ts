import { describe, expect, it } from "vitest";
import {
  compileApiKey,
  findApiKeyBySecret,
  generateSecret,
  hashSecret,
  type CompiledApiKey,
} from "../../src/auth/api-keys.js";
import type { ApiKeyDoc } from "../../src/config/documents.js";
import { TOKEN_TTL_MAX_MS, TOKEN_TTL_MS } from "../../src/defaults.js";

const doc = (fields: Partial<ApiKeyDoc> & { id: string }): ApiKeyDoc => ({
  kind: "ApiKey",
  permissions: ["incoming"],
  ...fields,
});

describe("hashSecret / generateSecret", () => {
  it("writes the secretHash format of the ApiKey schema", () => {
    expect(hashSecret("test")).toBe(
      "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    );
  });

  it("generates distinct, recognisable secrets with at least 32 random bytes", () => {
    const secrets = new Set(Array.from({ length: 100 }, () => generateSecret()));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) {
      expect(secret).toMatch(/^inlet_sk_[A-Za-z0-9_-]{43,}$/);
      expect(Buffer.from(secret.slice("inlet_sk_".length), "base64url").length).toBeGreaterThanOrEqual(32);
    }
  });
});

describe("compileApiKey", () => {
  it("compiles defaults: enabled, 1h tokens, digest of the hash", () => {
    const key = compileApiKey(doc({ id: "shop", secretHash: hashSecret("s") }), {});
    expect(key).toMatchObject({ id: "shop", enabled: true, tokenTtlMs: TOKEN_TTL_MS });
    expect(key.permissions.has("incoming")).toBe(true);
    expect(key.secretDigest?.toString("hex")).toBe(hashSecret("s").slice("sha256:".length));
  });

  it("caps tokenTtl at 24h", () => {
    expect(compileApiKey(doc({ id: "a", secretHash: hashSecret("s"), tokenTtl: "48h" }), {}).tokenTtlMs).toBe(
      TOKEN_TTL_MAX_MS,
    );
    expect(compileApiKey(doc({ id: "a", secretHash: hashSecret("s"), tokenTtl: "10m" }), {}).tokenTtlMs).toBe(
      600_000,
    );
  });

  it("reads secretEnv from the environment; unset or empty means no secret matches", () => {
    const fromEnv = compileApiKey(doc({ id: "a", secretEnv: "KEY_A" }), { KEY_A: "from-env" });
    expect(findApiKeyBySecret([fromEnv], "from-env")).toBe(fromEnv);
    const unset = compileApiKey(doc({ id: "b", secretEnv: "KEY_B" }), {});
    const empty = compileApiKey(doc({ id: "c", secretEnv: "KEY_C" }), { KEY_C: "" });
    expect(unset.secretDigest).toBeNull();
    expect(findApiKeyBySecret([unset, empty], "")).toBeUndefined();
  });
});

describe("findApiKeyBySecret", () => {
  const keys: CompiledApiKey[] = [
    compileApiKey(doc({ id: "first", secretHash: hashSecret("first-secret") }), {}),
    compileApiKey(doc({ id: "no-secret", secretEnv: "UNSET_VARIABLE" }), {}),
    compileApiKey(doc({ id: "second", secretHash: hashSecret("second-secret"), enabled: false }), {}),
  ];

  it("returns the key whose secret it is", () => {
    expect(findApiKeyBySecret(keys, "first-secret")?.id).toBe("first");
    expect(findApiKeyBySecret(keys, "second-secret")?.id).toBe("second");
  });

  it("returns nothing for a wrong secret, a prefix of a secret, or the hash itself", () => {
    expect(findApiKeyBySecret(keys, "wrong")).toBeUndefined();
    expect(findApiKeyBySecret(keys, "first-secre")).toBeUndefined();
    expect(findApiKeyBySecret(keys, hashSecret("first-secret"))).toBeUndefined();
    expect(findApiKeyBySecret([], "first-secret")).toBeUndefined();
  });
});
