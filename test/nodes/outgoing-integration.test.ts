import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WorkflowDoc } from "../../src/config/documents.js";
import { compileWorkflow } from "../../src/engine/compile-workflow.js";
import { executeRun } from "../../src/engine/execute-run.js";
import { redactHeaders, type IncomingEvent } from "../../src/ingest/event.js";
import { createHttpTransport } from "../../src/nodes/http-transport.js";
import type { HttpTransport } from "../../src/nodes/node-type.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { isCredentialName } from "../../src/nodes/sent-credentials.js";
import type { NodeRecord } from "../../src/store/store.js";
import { startSink, type Sink } from "../helpers/sink.js";

const INJECTION = '{{ range.constructor("return process")() }}';

let sink: Sink;
const transport = createHttpTransport({ denyPrivate: false });

beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink.close();
});
beforeEach(() => {
  (sink.calls as unknown[]).length = 0;
  sink.respond(() => ({ status: 200, body: { ok: true } }));
});

async function runYaml(
  nodes: string,
  options: {
    body?: unknown;
    headers?: Record<string, string>;
    env?: Record<string, string>;
    http?: HttpTransport;
  } = {},
) {
  const doc = parse(`
kind: Workflow
id: outgoing
trigger: { type: business-event, integration: shop-cart }
nodes:
${nodes}`) as WorkflowDoc;
  const workflow = compileWorkflow(doc, { registry: builtinRegistry });
  const event: IncomingEvent = {
    eventId: "ev-1",
    integration: "shop-cart",
    endpointId: "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11",
    method: "POST",
    time: Date.now(),
    headers: redactHeaders(options.headers ?? {}),
    query: {},
    body: options.body ?? {},
  };
  const records: NodeRecord[] = [];
  const outcome = await executeRun({
    workflow,
    event,
    runId: "run-1",
    http: options.http ?? transport,
    env: { SINK: sink.url, ...options.env },
    signal: new AbortController().signal,
    onNode: async (record) => {
      records.push(record);
    },
    sleep: async () => {},
  });
  return { outcome, records: records.filter((record) => record.status !== "running") };
}

describe("the seed example (SPEC 2.3)", () => {
  it("sends the customer's email, the request id and the products as an array", async () => {
    const body = {
      customer_email: "example@example.com",
      order_number: "1001",
      products: [
        { name: "Earwax", price: 9.5 },
        { name: "Candle", price: 3 },
      ],
    };
    const { outcome, records } = await runYaml(
      `
  - id: send-event
    type: outgoing-integration
    method: POST
    url: "http://{{ env.API_BASE }}/v4/events/custom"
    auth:
      type: bearer
      token: "{{ env.API_TOKEN }}"
    headers:
      X-Source: inlet
      X-Request-ID: '{{ request.headers["X-Request-ID"] }}'
    body:
      action: goal.achieve
      label: goal.achieve
      client:
        email: "{{ request.body.customer_email }}"
      params:
        products: "{{ request.body.products }}"
    timeout: 10s
    retry: { attempts: 3 }
    next: done
  - id: done
    type: end
`,
      { body, headers: { "X-Request-ID": "r-42" }, env: { API_BASE: sink.host, API_TOKEN: "secret-token" } },
    );
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls).toHaveLength(1);
    const call = sink.calls[0]!;
    expect(call.method).toBe("POST");
    expect(call.url).toBe("/v4/events/custom");
    expect(call.headers).toMatchObject({
      authorization: "Bearer secret-token",
      "x-source": "inlet",
      "x-request-id": "r-42",
      "content-type": "application/json",
    });
    expect(JSON.parse(call.body)).toEqual({
      action: "goal.achieve",
      label: "goal.achieve",
      client: { email: "example@example.com" },
      params: { products: body.products },
    });
    const output = records[0]?.output as { request: { headers: Record<string, string> } };
    expect(output.request.headers.Authorization).toBe("[redacted]");
    expect(JSON.stringify(records)).not.toContain("secret-token");
  });
});

describe("request data is only ever data", () => {
  it("arrives literally through url, query, header and body", async () => {
    const { outcome } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/items/{{ request.body.evil | urlencode }}"
    query: { q: "{{ request.body.evil }}" }
    headers: { X-Evil: "{{ request.body.evil }}" }
    body:
      lone: "{{ request.body.evil }}"
      text: "before {{ request.body.evil }} after"
`,
      { body: { evil: INJECTION } },
    );
    expect(outcome.status).toBe("succeeded");
    const call = sink.calls[0]!;
    const url = new URL(call.url, sink.url);
    expect(decodeURIComponent(url.pathname)).toBe(`/items/${INJECTION}`);
    expect(url.searchParams.get("q")).toBe(INJECTION);
    expect(call.headers["x-evil"]).toBe(INJECTION);
    expect(JSON.parse(call.body)).toEqual({ lone: INJECTION, text: `before ${INJECTION} after` });
  });

  it("cannot break a structured body's JSON", async () => {
    const breaking = 'x","admin":true,"y":"';
    const { outcome } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/users"
    body: { name: "{{ request.body.name }}", role: user }
`,
      { body: { name: breaking } },
    );
    expect(outcome.status).toBe("succeeded");
    expect(JSON.parse(sink.calls[0]!.body)).toEqual({ name: breaking, role: "user" });
  });

  it("fails the node on CR or LF in a rendered header value, sending nothing", async () => {
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/x"
    headers: { X-Name: "{{ request.body.name }}" }
`,
      { body: { name: "bob\r\nX-Admin: true" } },
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/X-Name.*CR or LF/);
    expect(records[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(sink.calls).toHaveLength(0);
  });

  it("also checks the rendered auth header", async () => {
    const { outcome } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/x"
    auth: { type: bearer, token: "{{ request.body.token }}" }
`,
      { body: { token: "t\nX-Admin: 1" } },
    );
    expect(outcome.status).toBe("failed");
    expect(sink.calls).toHaveLength(0);
  });
});

describe("auth", () => {
  it("sends basic credentials", async () => {
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/basic"
    auth: { type: basic, username: "{{ env.USER }}", password: "p@ss:word" }
`,
      { env: { USER: "ann" } },
    );
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("ann:p@ss:word").toString("base64")}`,
    );
    expect(JSON.stringify(records[0]?.output)).not.toContain(Buffer.from("ann:p@ss:word").toString("base64"));
  });

  it("sends a custom auth header and redacts it in the record", async () => {
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/header"
    auth: { type: header, name: X-Api-Key, value: "{{ env.KEY }}" }
`,
      { env: { KEY: "k-123" } },
    );
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls[0]?.headers["x-api-key"]).toBe("k-123");
    expect(sink.calls[0]?.headers["content-type"]).toBeUndefined();
    expect(records[0]?.output).toMatchObject({
      request: { headers: { "X-Api-Key": "[redacted]" }, body: undefined },
    });
  });
});

describe("credentials a receiver echoes back", () => {
  // An error page quoting the Authorization header, or an echo service: the node's own secrets
  // must not reach the run record, nor the error message that is logged.
  const echo = (call: { headers: Record<string, string | string[] | undefined> }) => ({
    authorization: call.headers["authorization"],
    apiKey: call.headers["x-api-key"],
  });

  it.each([
    ["a bearer", 'auth: { type: bearer, token: "{{ env.SECRET }}" }', "tok-3f9a1c"],
    ["a basic", 'auth: { type: basic, username: ann, password: "{{ env.SECRET }}" }', "pw-3f9a1c"],
    ["a header", 'auth: { type: header, name: X-Api-Key, value: "{{ env.SECRET }}" }', "key-3f9a1c"],
    ["an Authorization header", 'headers: { Authorization: "Token {{ env.SECRET }}" }', "hdr-3f9a1c"],
  ])("keeps %s credential out of the recorded answer", async (_kind, auth, secret) => {
    sink.respond((call) => ({
      status: 200,
      headers: { "X-Echo": String(call.headers["authorization"] ?? call.headers["x-api-key"]) },
      body: { echoed: echo(call), text: `you sent ${JSON.stringify(echo(call))} with ${secret}` },
    }));
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/echo"
    ${auth}
`,
      { env: { SECRET: secret } },
    );
    expect(outcome.status).toBe("succeeded");
    const recorded = JSON.stringify(records);
    expect(recorded).toContain("[redacted]");
    expect(recorded).not.toContain(secret);
    expect(recorded).not.toContain(Buffer.from(`ann:${secret}`).toString("base64"));
  });

  it("leaves the answer as it came when the credential is too short to tell from data", async () => {
    sink.respond(() => ({ status: 200, body: { id: "evt-9" } }));
    const { records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/short"
    auth: { type: bearer, token: "t" }
`,
    );
    expect(records[0]?.output).toMatchObject({ response: { body: { id: "evt-9" } } });
  });

  it("keeps the credential out of the error of a refused call", async () => {
    sink.respond((call) => ({
      status: 401,
      body: `invalid credentials: ${String(call.headers["authorization"])}`,
    }));
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/refused"
    auth: { type: bearer, token: "{{ env.SECRET }}" }
`,
      { env: { SECRET: "tok-77e0b2" } },
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("invalid credentials: [redacted]");
    expect(JSON.stringify(records)).not.toContain("tok-77e0b2");
  });
});

describe("credentials named by their header or query parameter", () => {
  const node = `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/named?page=2&api_key={{ env.KEY }}&q=a+b"
    query: { access_token: "{{ env.TOKEN }}", key: "{{ env.KEY }}" }
    headers:
      X-Api-Key: "{{ env.KEY }}"
      X-Auth-Token: "{{ env.TOKEN }}"
      Idempotency-Key: "order-1234567"
      X-Request-Id: "req-1234567"
    body: { ok: true }
`;
  const env = { KEY: "key-5d8e21a0", TOKEN: "tok-9b71c4e2" };

  it("sends them as rendered and keeps them out of the run record", async () => {
    const { outcome, records } = await runYaml(node, { env });
    expect(outcome.status).toBe("succeeded");
    const call = sink.calls[0]!;
    expect(call.headers["x-api-key"]).toBe(env.KEY);
    expect(call.headers["x-auth-token"]).toBe(env.TOKEN);
    expect(call.url).toBe(`/named?page=2&api_key=${env.KEY}&q=a+b&access_token=${env.TOKEN}&key=${env.KEY}`);
    const request = (records[0]?.output as { request: { url: string; headers: Record<string, string> } })
      .request;
    expect(request.url).toBe(
      `${sink.url}/named?page=2&api_key=[redacted]&q=a+b&access_token=[redacted]&key=[redacted]`,
    );
    expect(request.headers).toMatchObject({
      "X-Api-Key": "[redacted]",
      "X-Auth-Token": "[redacted]",
      "Idempotency-Key": "order-1234567",
      "X-Request-Id": "req-1234567",
    });
    expect(JSON.stringify(records)).not.toMatch(/key-5d8e21a0|tok-9b71c4e2/);
  });

  it("scrubs them from an answer that echoes them, as sent and as read", async () => {
    // Values only the query carries, with characters the URL percent-encodes, under an encoded name.
    const secret = "q+/s3cr3t==";
    sink.respond((call) => ({
      status: 200,
      body: { youSent: call.url, echo: new URL(call.url, sink.url).search },
    }));
    const { records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/echo-query?api%5Fkey={{ env.SECRET | urlencode }}&page=2"
`,
      { env: { SECRET: secret } },
    );
    expect(sink.calls[0]?.url).toBe(`/echo-query?api%5Fkey=${encodeURIComponent(secret)}&page=2`);
    const recorded = JSON.stringify(records);
    expect(recorded).toContain("api%5Fkey=[redacted]&page=2");
    expect(recorded).not.toContain(encodeURIComponent(secret));
    expect(recorded).not.toContain(secret);
  });

  it("keeps a token a login answers with in the answer, for the next node to send", async () => {
    sink.respond((call) =>
      call.url === "/login"
        ? { status: 200, headers: { "X-Auth-Token": "session-7c1e93ab" }, body: { ok: true } }
        : { status: 200, body: { ok: true } },
    );
    const { outcome } = await runYaml(`
  - id: login
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/login"
    next: use
  - id: use
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/use"
    headers: { X-Auth-Token: "{{ nodes.login.response.headers['x-auth-token'] }}" }
`);
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls[1]?.headers["x-auth-token"]).toBe("session-7c1e93ab");
  });
});

describe("credentials named by a field of the body", () => {
  const secret = "cs-4a1f9e7b";
  const refresh = "rt-0c5d2e88";

  it("redacts them in a JSON body, nested ones too, keeps the other fields, and scrubs their echo", async () => {
    sink.respond((call) => ({ status: 200, body: { youSent: JSON.parse(call.body) as unknown } }));
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/token"
    body:
      grant_type: refresh_token
      client_id: shop
      client_secret: "{{ env.SECRET }}"
      key: ISSUE-1234567
      grant: { refreshToken: "{{ env.REFRESH }}", tokenType: Bearer }
`,
      { env: { SECRET: secret, REFRESH: refresh } },
    );
    expect(outcome.status).toBe("succeeded");
    expect(JSON.parse(sink.calls[0]!.body)).toMatchObject({
      client_secret: secret,
      grant: { refreshToken: refresh },
    });
    const output = records[0]?.output as { request: { body: unknown }; response: { body: unknown } };
    expect(output.request.body).toEqual({
      grant_type: "refresh_token",
      client_id: "shop",
      client_secret: "[redacted]",
      key: "ISSUE-1234567",
      grant: { refreshToken: "[redacted]", tokenType: "Bearer" },
    });
    expect(JSON.stringify(output.response.body)).toContain('"client_secret":"[redacted]"');
    expect(JSON.stringify(records)).not.toMatch(new RegExp(`${secret}|${refresh}`));
  });

  it("redacts them in a form body, as an OAuth token request sends it, and scrubs their echo", async () => {
    const encoded = "s3cr%2Bt%3D%3Dvalue";
    sink.respond((call) => ({ status: 400, body: `bad request: ${call.body}` }));
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/oauth/token"
    headers: { Content-Type: application/x-www-form-urlencoded }
    body: "grant_type=client_credentials&client_id=shop&client_secret={{ env.SECRET | urlencode }}"
`,
      { env: { SECRET: "s3cr+t==value" } },
    );
    expect(sink.calls[0]?.body).toBe(`grant_type=client_credentials&client_id=shop&client_secret=${encoded}`);
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("client_secret=[redacted]");
    const recorded = JSON.stringify(records);
    expect(recorded).not.toContain(encoded);
    expect(recorded).not.toContain("s3cr+t==value");
  });

  it("scrubs a credential echoed as a number, or escaped inside a JSON string", async () => {
    const pin = "84736251";
    const password = 'Tr0ub4dor"&3\\x';
    sink.respond((call) => {
      const sent = JSON.parse(call.body) as { pin_password: string };
      return {
        status: 400,
        body: `bad request: {"pin": ${Number(sent.pin_password)}, "sent": ${call.body}}`,
      };
    });
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/login"
    body: { pin_password: "{{ env.PIN }}", password: "{{ env.PASSWORD }}" }
`,
      { env: { PIN: pin, PASSWORD: password } },
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain(
      '{"pin": [redacted], "sent": {"pin_password":"[redacted]","password":"[redacted]"}}',
    );
    sink.respond((call) => ({
      status: 200,
      body: { pin: Number((JSON.parse(call.body) as { pin_password: string }).pin_password) },
    }));
    const echoed = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/login"
    body: { pin_password: "{{ env.PIN }}" }
`,
      { env: { PIN: pin } },
    );
    expect(echoed.records[0]?.output).toMatchObject({ response: { body: { pin: "[redacted]" } } });
    expect(JSON.stringify([records, echoed.records])).not.toContain(pin);
  });

  it("hides what a credential-named object holds in the record, but scrubs only its credentials from the answer", async () => {
    sink.respond(() => ({ status: 200, body: { user: { email: "alice@example.com" } } }));
    const { records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/login"
    body:
      credentials: { email: alice@example.com, password: "{{ env.SECRET }}" }
      password_reset: true
`,
      { env: { SECRET: secret } },
    );
    expect(records[0]?.output).toMatchObject({
      request: { body: { credentials: "[redacted]", password_reset: true } },
      response: { body: { user: { email: "alice@example.com" } } },
    });
    expect(JSON.stringify(records)).not.toContain(secret);
  });

  it("refuses a JSON text body that nests deeper than a record can hold, sending nothing", async () => {
    const deep = `${"[".repeat(200)}${"]".repeat(200)}`;
    const { outcome } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/deep"
    body: "{{ env.DEEP }}"
`,
      { env: { DEEP: deep } },
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("nests deeper than 128 levels; nothing was sent");
    expect(sink.calls).toHaveLength(0);
  });

  it("keeps fields that describe a credential, and the answer's fields they name, readable", async () => {
    sink.respond(() => ({
      status: 200,
      body: { password_expires_at: "2027-01-01", must_change_password: false, id: "usr-1" },
    }));
    const { records } = await runYaml(`
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/users"
    body: { auth_type: password, token_endpoint_auth_method: client_secret_basic }
`);
    expect(records[0]?.output).toMatchObject({
      request: { body: { auth_type: "password", token_endpoint_auth_method: "client_secret_basic" } },
      response: { body: { password_expires_at: "2027-01-01", must_change_password: false } },
    });
  });

  it("redacts lists of credentials, and a credential given as {type, value}", async () => {
    sink.respond((call) => ({ status: 200, body: { echo: call.body } }));
    const { records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/users"
    body:
      username: ann
      credentials: [{ type: password, value: "{{ env.SECRET }}", temporary: false }]
      apiKeys: ["{{ env.REFRESH }}"]
`,
      { env: { SECRET: secret, REFRESH: refresh } },
    );
    expect(records[0]?.output).toMatchObject({
      request: { body: { username: "ann", credentials: "[redacted]", apiKeys: "[redacted]" } },
    });
    expect(JSON.stringify(records)).not.toMatch(new RegExp(`${secret}|${refresh}`));
  });

  it("keeps a text body that is neither JSON nor a form as it was sent", async () => {
    const { records } = await runYaml(`
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/text"
    headers: { Content-Type: text/plain }
    body: "password=not-a-field-here"
`);
    expect(records[0]?.output).toMatchObject({ request: { body: "password=not-a-field-here" } });
  });
});

describe("isCredentialName", () => {
  it.each([
    "X-Api-Key",
    "X-API-KEY",
    "apikey",
    "apiKey",
    "APIKey",
    "X-Api-Key2",
    "api-token",
    "X-Auth-Token",
    "x-amz-security-token",
    "access_token",
    "accessToken",
    "client_secret",
    "Ocp-Apim-Subscription-Key",
    "DD-APPLICATION-KEY",
    "app_key",
    "x-functions-key",
    "auth[token]",
    "password",
    "key",
    "appkey",
    "appsecret",
    "refreshtoken",
    "APISecret",
    "IDToken",
    "X-CSRFToken",
    "apiKeys",
    "client_secrets",
  ])("%s names a credential", (name) => {
    expect(isCredentialName(name)).toBe(true);
  });

  it.each([
    "Idempotency-Key",
    "X-Request-Id",
    "Content-Type",
    "pageToken",
    "NextToken",
    "continuation_token",
    "token_type_hint",
    "author",
    "design",
    "keyword",
    "page",
    "pagination_token",
    "nexttoken",
    "monkey",
    "auth_type",
    "X-Auth-Method",
    "password_expires_at",
    "status",
  ])("%s does not", (name) => {
    expect(isCredentialName(name)).toBe(false);
  });
});

describe("bodies and URLs", () => {
  it("sends a string body as rendered text with the default JSON content type", async () => {
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/text"
    body: '{"email": "{{ request.body.email }}", "n": 1}'
`,
      { body: { email: "a@b.c" } },
    );
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls[0]?.body).toBe('{"email": "a@b.c", "n": 1}');
    expect(sink.calls[0]?.headers["content-type"]).toBe("application/json");
    expect(records[0]?.output).toMatchObject({ request: { body: { email: "a@b.c", n: 1 } } });
  });

  it("fails with a clear error when a JSON string body does not parse, sending nothing", async () => {
    const { outcome, records } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/text"
    body: '{"email": "{{ request.body.email }}"}'
`,
      { body: { email: 'a"b' } },
    );
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/not valid JSON/);
    expect(records[0]).toMatchObject({ attempts: 1 });
    expect(sink.calls).toHaveLength(0);
  });

  it("sends a string body as is with the node's own content type", async () => {
    const { outcome } = await runYaml(`
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/text"
    headers: { content-type: text/plain }
    body: "hello {{ run.id }}"
`);
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls[0]).toMatchObject({ body: "hello run-1", headers: { "content-type": "text/plain" } });
  });

  it("adds query parameters to the URL's own", async () => {
    await runYaml(`
  - id: send
    type: outgoing-integration
    method: DELETE
    url: "{{ env.SINK }}/items?a=1"
    query: { b: "two words", c: "{{ 3 }}" }
`);
    expect(sink.calls[0]).toMatchObject({ method: "DELETE", url: "/items?a=1&b=two+words&c=3" });
  });

  it("fails without retrying when the rendered URL is not http(s)", async () => {
    const { outcome, records } = await runYaml(`
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.NOPE }}/path"
`);
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toBe(
      "node send: the rendered url does not start with http:// or https://: does a variable at its start (env.…) have no value?",
    );
    expect(records[0]).toMatchObject({ attempts: 1 });
  });

  it.each([
    ["", "is empty: does a variable it reads (env.…) have no value?"],
    ["hooks.example.com/services/T0/B0/s3cr3t", "does not start with http:// or https://"],
    ["https://exa mple.com/path", "is not a valid URL"],
  ])("says what is wrong with the rendered URL %j without quoting it", async (url, why) => {
    const { outcome } = await runYaml(
      `
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.URL }}"
`,
      { env: { URL: url } },
    );
    expect(outcome.error).toContain(`the rendered url ${why}`);
    expect(outcome.error).not.toContain("s3cr3t");
  });

  it("records a text response as text", async () => {
    sink.respond(() => ({ status: 200, body: "plain answer" }));
    const { records } = await runYaml(`
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/t"
`);
    expect(records[0]?.output).toMatchObject({ response: { status: 200, body: "plain answer" } });
  });
});

describe("statuses and limits", () => {
  it("accepts exactly the statuses of expectStatus", async () => {
    sink.respond(() => ({ status: 404, body: { missing: true } }));
    const lenient = await runYaml(`
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/x"
    expectStatus: 200, 4xx
`);
    expect(lenient.outcome.status).toBe("succeeded");
    sink.respond(() => ({ status: 202 }));
    const strict = await runYaml(`
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/x"
    expectStatus: "200,201"
`);
    expect(strict.outcome.status).toBe("failed");
    expect(strict.outcome.error).toMatch(/202/);
    expect(strict.records[0]).toMatchObject({ attempts: 1 });
  });

  it("refuses a response over the size cap without retrying", async () => {
    sink.respond(() => ({ status: 200, body: "x".repeat(1024 * 1024 + 10) }));
    const { outcome, records } = await runYaml(`
  - id: send
    type: outgoing-integration
    method: GET
    url: "{{ env.SINK }}/big"
`);
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/larger than/);
    expect(records[0]).toMatchObject({ attempts: 1 });
  });
});

describe("denyPrivate", () => {
  const denying = createHttpTransport({ denyPrivate: true });

  it("refuses loopback targets, by address and by name, without retrying", async () => {
    for (const url of [`${sink.url}/x`, `http://localhost:${new URL(sink.url).port}/x`]) {
      const { outcome, records } = await runYaml(
        `
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.TARGET }}"
`,
        { http: denying, env: { TARGET: url } },
      );
      expect(outcome.status).toBe("failed");
      expect(outcome.error).toMatch(/loopback, private/);
      expect(records[0]).toMatchObject({ attempts: 1 });
    }
    expect(sink.calls).toHaveLength(0);
  });
});
