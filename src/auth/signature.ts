import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { InletError } from "../errors.js";
import { httpError } from "../http-errors.js";

const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha1: 40, sha256: 64, sha512: 128 };
const HEX = /^[0-9a-fA-F]+$/;
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export type SignatureCheck = (headers: IncomingHttpHeaders, raw: Buffer, received?: Buffer) => void;

/**
 * SPEC 2.1 `auth.type: signature`: `header` carries `prefix` + the hex HMAC of the exact body
 * bytes. A compressed body (Content-Encoding) is accepted signed as it came (`received`) or as
 * decoded (`raw`): senders sign one or the other, and either takes the secret. A missing secret
 * (possible only when config is checked without secrets, as in CI) compiles to a check that
 * refuses every request rather than one that could accept a forgery.
 */
export function compileSignatureCheck(options: {
  secret: string | undefined;
  header: string;
  algorithm: string;
  prefix: string;
}): SignatureCheck {
  const hexLength = DIGEST_HEX_LENGTH[options.algorithm];
  if (hexLength === undefined) {
    throw new InletError("invalid-signature-algorithm", `signature algorithm must be sha1, sha256 or sha512`);
  }
  const headerName = options.header.toLowerCase();
  const { prefix, algorithm } = options;
  const challenge = TOKEN.test(options.header)
    ? `Signature header="${options.header}", algorithm="${algorithm}"`
    : `Signature algorithm="${algorithm}"`;
  const refuse: () => never = () => {
    throw httpError("invalid-signature", { headers: { "WWW-Authenticate": challenge } });
  };
  if (options.secret === undefined || options.secret === "") return refuse;
  const key: KeyObject = createSecretKey(Buffer.from(options.secret, "utf8"));

  const signs = (signature: Buffer, body: Buffer): boolean => {
    const expected = createHmac(algorithm, key).update(body).digest();
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  };

  return (headers, raw, received) => {
    const value = headers[headerName];
    const text = Array.isArray(value) ? value[0] : value;
    if (text === undefined || !text.startsWith(prefix)) refuse();
    const hex = text.slice(prefix.length).trim();
    if (hex.length !== hexLength || !HEX.test(hex)) refuse();
    const signature = Buffer.from(hex, "hex");
    if (!signs(signature, raw) && !(received !== undefined && signs(signature, received))) refuse();
  };
}
