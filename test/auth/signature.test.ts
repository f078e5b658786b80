import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { compileSignatureCheck } from "../../src/auth/signature.js";
import { SIGNATURE_ALGORITHM, SIGNATURE_HEADER, SIGNATURE_PREFIX } from "../../src/defaults.js";
import { HttpError } from "../../src/errors.js";

const SECRET = "meta-app-secret";
const body = Buffer.from('{"object":"page","entry":[{"id":"1","time":1583206296408}]}');
const metaSignature = (raw: Buffer, secret = SECRET) =>
  `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;

// Meta's defaults: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>.
const check = compileSignatureCheck({
  secret: SECRET,
  header: SIGNATURE_HEADER,
  algorithm: SIGNATURE_ALGORITHM,
  prefix: SIGNATURE_PREFIX,
});

function refusal(run: () => void): HttpError | null {
  try {
    run();
    return null;
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
}

describe("compileSignatureCheck", () => {
  it("accepts the HMAC of the exact bytes received, in hex of either case", () => {
    expect(refusal(() => check({ "x-hub-signature-256": metaSignature(body) }, body))).toBeNull();
    const upper = `sha256=${metaSignature(body).slice("sha256=".length).toUpperCase()}`;
    expect(refusal(() => check({ "x-hub-signature-256": upper }, body))).toBeNull();
  });

  it.each([
    ["missing", {}],
    ["empty", { "x-hub-signature-256": "" }],
    ["without its prefix", { "x-hub-signature-256": metaSignature(body).slice("sha256=".length) }],
    ["truncated", { "x-hub-signature-256": metaSignature(body).slice(0, -2) }],
    ["not hex", { "x-hub-signature-256": `sha256=${"z".repeat(64)}` }],
    ["made with another secret", { "x-hub-signature-256": metaSignature(body, "other") }],
    ["in the wrong header", { "x-hub-signature": metaSignature(body) }],
  ])("refuses a signature that is %s with 401 invalid-signature", (_name, headers) => {
    const error = refusal(() => check(headers, body));
    expect(error).toMatchObject({ status: 401, code: "invalid-signature" });
    expect(error?.headers["WWW-Authenticate"]).toMatch(/^Signature /);
  });

  it("refuses a body altered by one byte", () => {
    const altered = Buffer.from(body);
    altered[altered.length - 2] = altered[altered.length - 2]! ^ 1;
    expect(refusal(() => check({ "x-hub-signature-256": metaSignature(body) }, altered))).toMatchObject({
      code: "invalid-signature",
    });
  });

  it("supports another header, algorithm and prefix", () => {
    const custom = compileSignatureCheck({
      secret: SECRET,
      header: "X-Signature",
      algorithm: "sha512",
      prefix: "",
    });
    const hex = createHmac("sha512", SECRET).update(body).digest("hex");
    expect(refusal(() => custom({ "x-signature": hex }, body))).toBeNull();
    expect(refusal(() => custom({ "x-signature": metaSignature(body) }, body))).not.toBeNull();
  });

  it("refuses every request when the secret is not set", () => {
    const unset = compileSignatureCheck({
      secret: undefined,
      header: SIGNATURE_HEADER,
      algorithm: "sha256",
      prefix: "sha256=",
    });
    const empty = compileSignatureCheck({
      secret: "",
      header: SIGNATURE_HEADER,
      algorithm: "sha256",
      prefix: "sha256=",
    });
    expect(refusal(() => unset({ "x-hub-signature-256": metaSignature(body, "") }, body))).not.toBeNull();
    expect(refusal(() => empty({ "x-hub-signature-256": metaSignature(body, "") }, body))).not.toBeNull();
  });
});
