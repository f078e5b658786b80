import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/auth/api-keys.js";
import { AUTH_FAILURES_PER_WINDOW } from "../../src/defaults.js";
import { deleteKeys, REDIS_URL, reportSkippedWithoutRedis, uniquePrefix } from "../helpers/scale.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import { tempProject, type TempProject } from "../helpers/temp-project.js";

reportSkippedWithoutRedis("test/http/auth-failures.test.ts (its shared-budget case)");

const SECRET = "shop-secret";
const CONFIG = `kind: ApiKey\nid: shop\nsecretHash: ${hashSecret(SECRET)}\npermissions: [incoming]\n`;
const JWT_SECRET = "a-test-signing-secret-of-at-least-32-bytes!";
const ADMIN_TOKEN = "an-admin-token-for-these-tests";

let project: TempProject;
beforeAll(async () => {
  project = await tempProject({ "integrations/all.yaml": CONFIG });
});
afterAll(() => project.cleanup());

// The servers listen on loopback, which Inlet trusts for X-Forwarded-For: it stands for the client.
async function exchange(server: TestServer, client: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}/v1/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": client },
    body: JSON.stringify(body),
  });
}
const statusOf = async (response: Promise<Response>): Promise<number> => (await response).status;

async function failUpToTheLimit(server: TestServer, client: string): Promise<void> {
  for (let i = 0; i < AUTH_FAILURES_PER_WINDOW; i += 1) {
    expect(await statusOf(exchange(server, client, { apiKey: "wrong" }))).toBe(401);
  }
}

describe("POST /v1/auth/token: failed attempts per client", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      INLET_DIR: project.dir,
      INLET_JWT_SECRET: JWT_SECRET,
      INLET_ADMIN_TOKEN: ADMIN_TOKEN,
    });
  });
  afterAll(() => server.shutdown());

  it("answers 429 with Retry-After after the limit, even for the right key, and only to that client", async () => {
    await failUpToTheLimit(server, "192.0.2.1");
    const refused = await exchange(server, "192.0.2.1", { apiKey: SECRET });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await statusOf(exchange(server, "192.0.2.2", { apiKey: SECRET }))).toBe(200);
  });

  it("counts an IPv6 client by its /64, so the other addresses of its network share the budget", async () => {
    await failUpToTheLimit(server, "2001:db8:1:2::1");
    expect(await statusOf(exchange(server, "2001:db8:1:2:ffff::9", { apiKey: SECRET }))).toBe(429);
    expect(await statusOf(exchange(server, "2001:db8:1:3::1", { apiKey: SECRET }))).toBe(200);
  });

  it("counts only wrong keys: right keys and malformed requests use up nothing", async () => {
    for (let i = 0; i < 2 * AUTH_FAILURES_PER_WINDOW; i += 1) {
      expect(await statusOf(exchange(server, "192.0.2.3", { apiKey: SECRET }))).toBe(200);
      expect(await statusOf(exchange(server, "192.0.2.3", {}))).toBe(400);
    }
    await failUpToTheLimit(server, "192.0.2.3");
  });

  it("lets no more than the limit of concurrent wrong keys be checked", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 3 * AUTH_FAILURES_PER_WINDOW }, () =>
        statusOf(exchange(server, "192.0.2.4", { apiKey: "wrong" })),
      ),
    );
    expect(statuses.filter((status) => status === 401)).toHaveLength(AUTH_FAILURES_PER_WINDOW);
    expect(statuses.filter((status) => status === 429)).toHaveLength(2 * AUTH_FAILURES_PER_WINDOW);
  });
});

describe("/v1/admin/*: failed admin tokens per client", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  afterAll(() => server.shutdown());

  const admin = (client: string, token?: string): Promise<number> =>
    statusOf(
      fetch(`${server.url}/v1/admin/integrations`, {
        headers: {
          "X-Forwarded-For": client,
          ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
        },
      }),
    );

  it("answers 429 after the limit of wrong tokens, even for the right one, and only to that client", async () => {
    for (let i = 0; i < AUTH_FAILURES_PER_WINDOW; i += 1) expect(await admin("192.0.2.7", "guess")).toBe(401);
    expect(await admin("192.0.2.7", "guess")).toBe(429);
    expect(await admin("192.0.2.7", ADMIN_TOKEN)).toBe(429);
    expect(await admin("192.0.2.8", ADMIN_TOKEN)).toBe(200);
  });

  it("does not count a request without a token, nor the right token", async () => {
    for (let i = 0; i < 2 * AUTH_FAILURES_PER_WINDOW; i += 1) {
      expect(await admin("192.0.2.9")).toBe(401);
      expect(await admin("192.0.2.9", ADMIN_TOKEN)).toBe(200);
    }
  });
});

describe.skipIf(!REDIS_URL)("POST /v1/auth/token with the redis store", () => {
  const prefix = uniquePrefix("token-failures");
  const servers: TestServer[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i += 1) {
      servers.push(
        await startServer({
          INLET_DIR: project.dir,
          INLET_JWT_SECRET: JWT_SECRET,
          INLET_STORE: REDIS_URL ?? "",
          INLET_REDIS_PREFIX: prefix,
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.shutdown()));
    await deleteKeys(REDIS_URL ?? "", prefix);
  });

  it("shares a client's budget between instances: failures on one count on the other", async () => {
    const [first, second] = servers as [TestServer, TestServer];
    await failUpToTheLimit(first, "192.0.2.5");
    expect(await statusOf(exchange(second, "192.0.2.5", { apiKey: SECRET }))).toBe(429);
  });

  it("lets no more than the limit of concurrent wrong keys through, spread over both instances", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 3 * AUTH_FAILURES_PER_WINDOW }, (_, i) =>
        statusOf(exchange(servers[i % 2]!, "192.0.2.6", { apiKey: "wrong" })),
      ),
    );
    expect(statuses.filter((status) => status === 401)).toHaveLength(AUTH_FAILURES_PER_WINDOW);
    expect(statuses.filter((status) => status === 429)).toHaveLength(2 * AUTH_FAILURES_PER_WINDOW);
  });
});
