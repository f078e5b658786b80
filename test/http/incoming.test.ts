import { createHmac } from "node:crypto";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/auth/api-keys.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import { tempProject, type TempProject } from "../helpers/temp-project.js";

const JWT_SECRET = "a-test-signing-secret-of-at-least-32-bytes!";
const ADMIN = "admin-token";
const SIGNING_SECRET = "webhook-secret";
const EP = {
  open: "00000000-0000-4000-8000-000000000001",
  disabled: "00000000-0000-4000-8000-000000000002",
  jwt: "00000000-0000-4000-8000-000000000003",
  signed: "00000000-0000-4000-8000-000000000004",
  limited: "00000000-0000-4000-8000-000000000005",
  dedup: "00000000-0000-4000-8000-000000000006",
  header: "00000000-0000-4000-8000-000000000007",
  inner: "00000000-0000-4000-8000-000000000008",
  sliding: "00000000-0000-4000-8000-000000000009",
  small: "00000000-0000-4000-8000-00000000000a",
  jwtDedup: "00000000-0000-4000-8000-00000000000b",
  other: "00000000-0000-4000-8000-00000000000c",
  signedLimited: "00000000-0000-4000-8000-00000000000d",
  jwtLimited: "00000000-0000-4000-8000-00000000000e",
};

const CONFIG = `
kind: ApiKey
id: shop
secretHash: ${hashSecret("shop-secret")}
permissions: [incoming]
---
kind: ApiKey
id: other
secretHash: ${hashSecret("other-secret")}
permissions: [incoming]
---
kind: ApiKey
id: no-perm
secretHash: ${hashSecret("no-perm-secret")}
permissions: []
---
kind: ApiKey
id: disabled
secretHash: ${hashSecret("disabled-secret")}
permissions: [incoming]
enabled: false
---
kind: Integration
id: open
endpoint: ${EP.open}
auth: { type: none }
---
kind: Integration
id: disabled
endpoint: ${EP.disabled}
enabled: false
auth: { type: none }
---
kind: Integration
id: jwt
endpoint: ${EP.jwt}
auth: { type: jwt, apiKey: shop }
---
kind: Integration
id: no-perm
endpoint: ${EP.other}
auth: { type: jwt, apiKey: no-perm }
---
kind: Integration
id: signed
endpoint: ${EP.signed}
auth: { type: signature, secretEnv: TEST_SIGNING_SECRET }
---
kind: Integration
id: limited
endpoint: ${EP.limited}
auth: { type: none }
rateLimit: 3/m
---
kind: Integration
id: signed-limited
endpoint: ${EP.signedLimited}
auth: { type: signature, secretEnv: TEST_SIGNING_SECRET }
rateLimit: 2/m
---
kind: Integration
id: jwt-limited
endpoint: ${EP.jwtLimited}
auth: { type: jwt, apiKey: shop }
rateLimit: 2/m
---
kind: Integration
id: dedup
endpoint: ${EP.dedup}
auth: { type: none }
dedup: { params: [body.order_number, headers.x-request-id] }
---
kind: Integration
id: header
endpoint: ${EP.header}
auth: { type: none }
dedup: { header: X-Deduplication-Hash }
---
kind: Integration
id: inner
endpoint: ${EP.inner}
auth: { type: none }
dedup: { params: [body.products] }
---
kind: Integration
id: sliding
endpoint: ${EP.sliding}
auth: { type: none }
dedup: { params: [body.id], ttl: 1500ms }
---
kind: Integration
id: small
endpoint: ${EP.small}
auth: { type: none }
maxBodySize: 1kb
---
kind: Integration
id: jwt-dedup
endpoint: ${EP.jwtDedup}
auth: { type: jwt, apiKey: shop }
dedup: { params: [body.id] }
`;

let project: TempProject;
let server: TestServer;

beforeAll(async () => {
  project = await tempProject({ "integrations/all.yaml": CONFIG });
  server = await startServer({
    INLET_DIR: project.dir,
    INLET_JWT_SECRET: JWT_SECRET,
    INLET_ADMIN_TOKEN: ADMIN,
    TEST_SIGNING_SECRET: SIGNING_SECRET,
  });
});
afterAll(async () => {
  await server.shutdown();
  project.cleanup();
});

function send(
  endpoint: string,
  body: unknown = { a: 1 },
  init: { method?: string; headers?: Record<string, string>; raw?: string | Buffer; path?: string } = {},
): Promise<Response> {
  return fetch(`${server.url}/v1/incoming/${endpoint}${init.path ?? ""}`, {
    method: init.method ?? "POST",
    headers: { "Content-Type": "application/json", ...init.headers },
    body: init.raw ?? JSON.stringify(body),
  });
}

async function token(apiKey: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ apiKey }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

const key = new TextEncoder().encode(JWT_SECRET);
function forge(
  claims: Record<string, unknown>,
  options: { secret?: Uint8Array; expiresIn?: string | number } = {},
): Promise<string> {
  const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setJti("j");
  if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(options.secret ?? key);
}
const validClaims = { sub: "shop", iss: "inlet", aud: "inlet:incoming" };

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe("incoming endpoint: status codes", () => {
  it("200 with an eventId for a JSON object and for an array; PUT too", async () => {
    const response = await send(EP.open, { a: 1 });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: "accepted",
    });
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    // No dedup configured, so no Inlet-Dedup answer.
    expect(response.headers.has("inlet-dedup")).toBe(false);
    expect((await send(EP.open, [1, 2])).status).toBe(200);
    expect((await send(EP.open, { a: 1 }, { method: "PUT" })).status).toBe(200);
  });

  it("404 for an unknown or disabled endpoint", async () => {
    const unknown = await send("11111111-1111-4111-8111-111111111111");
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe("unknown-endpoint");
    expect((await send(EP.disabled)).status).toBe(404);
  });

  it("405 for other methods, with Allow", async () => {
    const response = await fetch(`${server.url}/v1/incoming/${EP.open}`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST, PUT");
  });

  it("415 for a body that is not JSON", async () => {
    const response = await send(EP.open, undefined, {
      raw: "a=1",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(response.status).toBe(415);
    expect(await errorCode(response)).toBe("unsupported-media-type");
  });

  it("400 for malformed JSON and for a top-level scalar", async () => {
    const malformed = await send(EP.open, undefined, { raw: '{"a": ' });
    expect(malformed.status).toBe(400);
    expect(await errorCode(malformed)).toBe("invalid-json");
    const scalar = await send(EP.open, undefined, { raw: '"just a string"' });
    expect(scalar.status).toBe(400);
    expect(await errorCode(scalar)).toBe("body-not-object");
  });

  it("413 for a body over maxBodySize, also when it only grows past it after gzip decoding", async () => {
    expect((await send(EP.small, { data: "x".repeat(2000) })).status).toBe(413);
    const bomb = gzipSync(Buffer.from(JSON.stringify({ data: "x".repeat(5_000_000) })));
    expect(bomb.length).toBeLessThan(10_000);
    const response = await send(EP.small, undefined, { raw: bomb, headers: { "Content-Encoding": "gzip" } });
    expect(response.status).toBe(413);
    expect(
      (
        await send(EP.small, undefined, {
          raw: gzipSync('{"ok": true}'),
          headers: { "Content-Encoding": "gzip" },
        })
      ).status,
    ).toBe(200);
  });

  it("413 for a 10 MB body and for a body nested 5000 deep, and the server keeps serving", async () => {
    expect((await send(EP.open, { data: "x".repeat(10 * 1024 * 1024) })).status).toBe(413);
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    const response = await send(EP.open, undefined, { raw: deep });
    expect(response.status).toBe(413);
    expect(await errorCode(response)).toBe("body-too-complex");
    expect((await send(EP.open)).status).toBe(200);
  });

  // Closing a connection with its body unread makes the kernel reset it, and the reset can discard
  // the answer before the sender reads it: such a sender saw ECONNRESET, not its 401.
  it("gets its 401 to a sender that reads the answer only after sending its whole 4 MB body", async () => {
    const { hostname, port } = new URL(server.url);
    const socket = net.connect(Number(port), hostname);
    let received = "";
    const ended = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        if (received.includes("\r\n\r\n")) resolve();
      });
      socket.on("error", (error) => {
        received += `[${error.message}]`;
        resolve();
      });
      socket.on("close", () => resolve());
    });
    socket.pause();
    const size = 4 * 1024 * 1024;
    socket.write(
      `POST /v1/incoming/${EP.jwt} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.write(Buffer.alloc(size, " "), () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.resume();
    await ended;
    socket.destroy();
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
  });

  it("keeps __proto__ keys as data without polluting anything", async () => {
    const response = await send(EP.open, undefined, {
      raw: '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"x": 1}}}',
    });
    expect(response.status).toBe(200);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    const samples = await fetch(`${server.url}/v1/admin/integrations/open/samples`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    const { samples: list } = (await samples.json()) as { samples: { flattened: Record<string, unknown> }[] };
    expect(list[0]!.flattened).toMatchObject({
      "body.__proto__.polluted": 1,
      "body.constructor.prototype.x": 1,
    });
  });

  it("503 with Retry-After when the store cannot be reached", async () => {
    const alt = await startServer({
      INLET_DIR: project.dir,
      INLET_JWT_SECRET: JWT_SECRET,
      TEST_SIGNING_SECRET: SIGNING_SECRET,
    });
    await alt.store.close();
    const response = await fetch(`${alt.url}/v1/incoming/${EP.open}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await fetch(`${alt.url}/readyz`)).status).toBe(503);
    alt.server.close();
  });
});

describe("incoming endpoint: JWT", () => {
  it("accepts a token exchanged for the integration's API key", async () => {
    const response = await send(
      EP.jwt,
      { a: 1 },
      { headers: { Authorization: `Bearer ${await token("shop-secret")}` } },
    );
    expect(response.status).toBe(200);
  });

  it("refuses a wrong API key at the exchange with 401", async () => {
    const response = await fetch(`${server.url}/v1/auth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ apiKey: "nope" }),
    });
    expect(response.status).toBe(401);
    expect(await errorCode(response)).toBe("invalid-api-key");
  });

  const cases: Array<[string, () => Promise<Record<string, string>>, string?]> = [
    ["no token", async () => ({})],
    [
      "alg none",
      async () => ({
        Authorization: `Bearer ${new UnsecuredJWT(validClaims).setIssuedAt().setExpirationTime("1h").encode()}`,
      }),
    ],
    [
      "a wrong secret",
      async () => ({
        Authorization: `Bearer ${await forge(validClaims, { secret: new TextEncoder().encode("x".repeat(40)), expiresIn: "1h" })}`,
      }),
    ],
    [
      "an expired token",
      async () => ({
        Authorization: `Bearer ${await forge(validClaims, { expiresIn: Math.floor(Date.now() / 1000) - 120 })}`,
      }),
    ],
    ["no exp", async () => ({ Authorization: `Bearer ${await forge(validClaims)}` })],
    [
      "a wrong audience",
      async () => ({
        Authorization: `Bearer ${await forge({ ...validClaims, aud: "elsewhere" }, { expiresIn: "1h" })}`,
      }),
    ],
    ["another ApiKey's token", async () => ({ Authorization: `Bearer ${await token("other-secret")}` })],
    [
      "a key without the incoming permission",
      async () => ({
        Authorization: `Bearer ${await forge({ ...validClaims, sub: "no-perm" }, { expiresIn: "1h" })}`,
      }),
      EP.other,
    ],
    [
      "a disabled key",
      async () => ({
        Authorization: `Bearer ${await forge({ ...validClaims, sub: "disabled" }, { expiresIn: "1h" })}`,
      }),
    ],
  ];
  it.each(cases)("401 with WWW-Authenticate for %s", async (_name, headers, endpoint) => {
    const response = await send(endpoint ?? EP.jwt, { a: 1 }, { headers: await headers() });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("ignores a token in the query string", async () => {
    const response = await send(EP.jwt, { a: 1 }, { path: `?access_token=${await token("shop-secret")}` });
    expect(response.status).toBe(401);
  });

  it("a 401 leaves no dedup key: the retry with a valid token is new", async () => {
    const body = { id: `order-${Date.now()}` };
    expect((await send(EP.jwtDedup, body, { headers: { Authorization: "Bearer forged" } })).status).toBe(401);
    const good = await send(EP.jwtDedup, body, {
      headers: { Authorization: `Bearer ${await token("shop-secret")}` },
    });
    expect(good.status).toBe(200);
    expect(good.headers.get("inlet-dedup")).toBe("new");
  });
});

describe("incoming endpoint: signatures", () => {
  const body = '{"entry":[{"id":"1"}]}';
  const sign = (text: string): string =>
    `sha256=${createHmac("sha256", SIGNING_SECRET).update(text).digest("hex")}`;

  it("accepts Meta's X-Hub-Signature-256 over the raw body", async () => {
    expect(
      (await send(EP.signed, undefined, { raw: body, headers: { "X-Hub-Signature-256": sign(body) } }))
        .status,
    ).toBe(200);
  });

  it.each([
    ["a missing signature", {}],
    ["a wrong signature", { "X-Hub-Signature-256": sign("other") }],
    ["a malformed signature", { "X-Hub-Signature-256": "sha256=zz" }],
  ])("401 for %s", async (_name, headers) => {
    expect((await send(EP.signed, undefined, { raw: body, headers })).status).toBe(401);
  });

  it("accepts a gzip body signed as it came or as decoded, and nothing else", async () => {
    const compressed = gzipSync(body);
    const sendGzip = (signature: string) =>
      send(EP.signed, undefined, {
        raw: compressed,
        headers: { "Content-Encoding": "gzip", "X-Hub-Signature-256": signature },
      });
    const signBytes = (bytes: Buffer): string =>
      `sha256=${createHmac("sha256", SIGNING_SECRET).update(bytes).digest("hex")}`;
    expect((await sendGzip(signBytes(compressed))).status).toBe(200);
    expect((await sendGzip(sign(body))).status).toBe(200);
    expect((await sendGzip(sign(`${body} `))).status).toBe(401);
    expect((await sendGzip(signBytes(gzipSync(`${body} `)))).status).toBe(401);
  });

  it("checks the signature before the body parses: an unsigned sender hears 401, not how its body parses", async () => {
    const broken = '{"entry": [';
    const unsigned = await send(EP.signed, undefined, { raw: broken, headers: {} });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.text()).not.toContain("JSON");
    const signed = await send(EP.signed, undefined, {
      raw: broken,
      headers: { "X-Hub-Signature-256": sign(broken) },
    });
    expect(signed.status).toBe(400);
    expect(((await signed.json()) as { error: { code: string } }).error.code).toBe("invalid-json");
  });

  it("401 when the body differs from the signed one by one byte", async () => {
    const altered = body.replace('"1"', '"2"');
    expect(
      (await send(EP.signed, undefined, { raw: altered, headers: { "X-Hub-Signature-256": sign(body) } }))
        .status,
    ).toBe(401);
  });
});

describe("incoming endpoint: rate limit", () => {
  it("429 with Retry-After over rateLimit, and the limited request claims nothing", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await send(EP.limited)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const response = await send(EP.limited);
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  // Whoever knows an endpoint's address must not be able to lock its sender out.
  it.each([
    [
      "a signature",
      EP.signedLimited,
      { "X-Hub-Signature-256": "sha256=00" },
      async () => ({
        "X-Hub-Signature-256": `sha256=${createHmac("sha256", SIGNING_SECRET).update("{}").digest("hex")}`,
      }),
    ],
    [
      "a JWT",
      EP.jwtLimited,
      { Authorization: "Bearer forged" },
      async () => ({ Authorization: `Bearer ${await token("shop-secret")}` }),
    ],
  ])("counts against rateLimit only requests that pass %s check", async (_auth, endpoint, forged, valid) => {
    const refused = [];
    for (let i = 0; i < 4; i += 1)
      refused.push((await send(endpoint, undefined, { raw: "{}", headers: forged })).status);
    expect(refused).toEqual([401, 401, 401, 401]);
    const headers = await valid();
    const statuses = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await send(endpoint, undefined, { raw: "{}", headers })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe("incoming endpoint: deduplication", () => {
  it("200 then 204 with Inlet-Duplicate-Of for the same params", async () => {
    const body = { order_number: `n-${Date.now()}` };
    const first = await send(EP.dedup, body, { headers: { "X-Request-ID": "r-1" } });
    expect(first.status).toBe(200);
    expect(first.headers.get("inlet-dedup")).toBe("new");
    const { eventId } = (await first.json()) as { eventId: string };
    const again = await send(EP.dedup, body, { headers: { "X-Request-ID": "r-1" } });
    expect(again.status).toBe(204);
    expect(again.headers.get("inlet-dedup")).toBe("duplicate");
    expect(again.headers.get("inlet-duplicate-of")).toBe(eventId);
    expect(await again.text()).toBe("");
    expect((await send(EP.dedup, body, { headers: { "X-Request-ID": "r-2" } })).status).toBe(200);
  });

  it("skips deduplication when none of the params is present", async () => {
    const first = await send(EP.dedup, { other: 1 });
    expect(first.headers.get("inlet-dedup")).toBe("skipped");
    expect((await send(EP.dedup, { other: 1 })).status).toBe(200);
  });

  it("gives exactly one 200 among 30 concurrent identical requests", async () => {
    const body = { order_number: `c-${Date.now()}` };
    const responses = await Promise.all(Array.from({ length: 30 }, () => send(EP.dedup, body)));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 204)).toHaveLength(29);
  });

  it("uses a client-supplied hash header", async () => {
    const hash = `h-${Date.now()}`;
    expect((await send(EP.header, { a: 1 }, { headers: { "X-Deduplication-Hash": hash } })).status).toBe(200);
    expect((await send(EP.header, { a: 2 }, { headers: { "X-Deduplication-Hash": hash } })).status).toBe(204);
    expect((await send(EP.header, { a: 1 })).headers.get("inlet-dedup")).toBe("skipped");
  });

  it("tells apart order numbers past 2^53 that differ only beyond a double's precision", async () => {
    const number = `${Date.now()}0000001`;
    const raw = (last: string) => `{"order_number": ${number.slice(0, -1)}${last}}`;
    const first = await send(EP.dedup, undefined, { raw: raw("1") });
    expect(first.headers.get("inlet-dedup")).toBe("new");
    const other = await send(EP.dedup, undefined, { raw: raw("2") });
    expect(other.status).toBe(200);
    expect(other.headers.get("inlet-dedup")).toBe("new");
    expect((await send(EP.dedup, undefined, { raw: raw("1") })).status).toBe(204);
  });

  it("counts a param naming an inner node as its whole value", async () => {
    const products = [{ id: `p-${Date.now()}`, qty: 1 }];
    expect((await send(EP.inner, { products })).status).toBe(200);
    expect((await send(EP.inner, { products })).status).toBe(204);
    expect((await send(EP.inner, { products: [{ ...products[0], qty: 2 }] })).status).toBe(200);
  });

  it("renews a key's lifetime with each duplicate (sliding TTL)", async () => {
    const body = { id: `s-${Date.now()}` };
    expect((await send(EP.sliding, body)).status).toBe(200);
    for (let i = 0; i < 3; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect((await send(EP.sliding, body)).status).toBe(204);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await send(EP.sliding, body)).status).toBe(200);
  });
});

describe("samples", () => {
  it("keeps requests raw and flattened with Authorization and Cookie redacted", async () => {
    await send(
      EP.jwt,
      { customer_email: "example@example.com", products: [{ name: "Earwax" }] },
      {
        headers: {
          Authorization: `Bearer ${await token("shop-secret")}`,
          Cookie: "session=1",
          "X-Request-ID": "abc",
        },
      },
    );
    const response = await fetch(`${server.url}/v1/admin/integrations/jwt/samples`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    const { samples } = (await response.json()) as {
      samples: { request: { headers: Record<string, string> }; flattened: Record<string, unknown> }[];
    };
    const sample = samples[0]!;
    expect(sample.request.headers["authorization"]).toBe("[redacted]");
    expect(sample.request.headers["cookie"]).toBe("[redacted]");
    expect(sample.flattened).toMatchObject({
      "body.customer_email": "example@example.com",
      "body.products.0.name": "Earwax",
      "headers.x-request-id": "abc",
    });
    expect(JSON.stringify(samples)).not.toContain("session=1");
  });

  it("lists integrations with their endpoint URLs", async () => {
    const response = await fetch(`${server.url}/v1/admin/integrations`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    const { integrations } = (await response.json()) as {
      integrations: { id: string; url: string; auth: { type: string } }[];
    };
    expect(integrations.find((i) => i.id === "jwt")).toMatchObject({
      url: `http://localhost:${server.port}/v1/incoming/${EP.jwt}`,
      auth: { type: "jwt" },
    });
  });
});
