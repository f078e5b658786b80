import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import {
  ENDPOINT_A,
  ENDPOINT_B,
  integrationYaml,
  tempProject,
  type TempProject,
} from "../helpers/temp-project.js";

const ADMIN = "admin-token-for-tests";
/** Reload deletions of samples wait a grace (SAMPLE_TRIM_GRACE_MS); these tests look at the deletion itself. */
const TRIM_AT_ONCE = { sampleTrimGraceMs: 1 };
let project: TempProject | undefined;
let server: TestServer | undefined;

afterEach(async () => {
  await server?.shutdown();
  server = undefined;
  project?.cleanup();
});

function post(endpoint: string, body: unknown = { a: 1 }): Promise<Response> {
  return fetch(`${server!.url}/v1/incoming/${endpoint}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function adminConfig(): Promise<{
  lastReload: { ok: boolean; errors: { file: string; line: number; col: number; code: string }[] };
  files: string[];
}> {
  const response = await fetch(`${server!.url}/v1/admin/config`, {
    headers: { Authorization: `Bearer ${ADMIN}` },
  });
  return (await response.json()) as never;
}

describe("hot reload", () => {
  it("keeps an identity provider's key set across a reload: its tokens verify while it is down", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
    let down = false;
    let fetches = 0;
    const idp = http.createServer((_req, res) => {
      fetches += 1;
      if (down) res.writeHead(500).end("down");
      else res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
    try {
      const jwks = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks.json`;
      const auth = `  type: jwt\n  jwks: ${jwks}\n  issuer: https://idp.example.com/\n  audience: inlet`;
      project = await tempProject({
        "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A, auth }),
      });
      server = await startServer({ INLET_DIR: project.dir, INLET_WATCH: "true" });
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer("https://idp.example.com/")
        .setAudience("inlet")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
      const sendSigned = () =>
        fetch(`${server!.url}/v1/incoming/${ENDPOINT_A}`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
          body: "{}",
        });
      expect((await sendSigned()).status).toBe(200);

      down = true;
      // An edit to another file: the new snapshot's verifier must find the set already fetched.
      await project.write("integrations/b.yaml", integrationYaml({ id: "b", endpoint: ENDPOINT_B }));
      await eventually(async () => expect((await post(ENDPOINT_B)).status).toBe(200));
      expect((await sendSigned()).status).toBe(200);
      expect(fetches).toBe(1);
    } finally {
      await new Promise((resolve) => idp.close(resolve));
    }
  });

  it("adds, changes and removes endpoints when files change", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    });
    server = await startServer({ INLET_DIR: project.dir, INLET_WATCH: "true", INLET_ADMIN_TOKEN: ADMIN });
    expect((await post(ENDPOINT_A)).status).toBe(200);
    expect((await post(ENDPOINT_B)).status).toBe(404);

    await project.write("integrations/b.yaml", integrationYaml({ id: "b", endpoint: ENDPOINT_B }));
    await eventually(async () => expect((await post(ENDPOINT_B)).status).toBe(200));

    await project.writeAtomically(
      "integrations/a.yaml",
      integrationYaml({ id: "a", endpoint: ENDPOINT_A, extra: "enabled: false" }),
    );
    await eventually(async () => expect((await post(ENDPOINT_A)).status).toBe(404));

    await project.remove("integrations/b.yaml");
    await eventually(async () => expect((await post(ENDPOINT_B)).status).toBe(404));
  });

  it("keeps serving the old config after an invalid edit, and reports it", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    });
    server = await startServer({ INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN });
    await project.write("integrations/a.yaml", integrationYaml({ id: "a", endpoint: "not-a-uuid" }));
    await project.write("integrations/b.yaml", integrationYaml({ id: "b", endpoint: ENDPOINT_B }));
    expect(await server.reloader.reload("test")).toBe(false);

    expect((await post(ENDPOINT_A)).status).toBe(200);
    expect((await post(ENDPOINT_B)).status).toBe(404);
    const config = await adminConfig();
    expect(config.lastReload.ok).toBe(false);
    expect(config.lastReload.errors).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/integrations\/a\.yaml$/),
        line: 3,
        col: 11,
        code: "schema",
      }),
    ]);
    expect(server.logs().some((line) => line.includes("config reload rejected"))).toBe(true);

    await project.write("integrations/a.yaml", integrationYaml({ id: "a", endpoint: ENDPOINT_A }));
    expect(await server.reloader.reload("test")).toBe(true);
    expect((await post(ENDPOINT_B)).status).toBe(200);
    expect((await adminConfig()).lastReload.ok).toBe(true);
  });

  it("answers every request of a steady stream while the config reloads repeatedly", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    });
    server = await startServer({ INLET_DIR: project.dir });
    const statuses: number[] = [];
    let reloading = true;
    const stream = (async () => {
      while (reloading) {
        const batch = await Promise.all(Array.from({ length: 10 }, () => post(ENDPOINT_A)));
        statuses.push(...batch.map((response) => response.status));
      }
    })();
    for (let i = 0; i < 8; i += 1) {
      await project.write(
        "integrations/a.yaml",
        integrationYaml({ id: "a", endpoint: ENDPOINT_A, extra: `name: version ${i}` }),
      );
      expect(await server.reloader.reload(`edit ${i}`)).toBe(true);
    }
    reloading = false;
    await stream;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it("serves no more samples than the reloaded config keeps, none at samples: 0", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A, extra: "samples: 3" }),
    });
    server = await startServer({ INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN }, TRIM_AT_ONCE);
    for (let i = 0; i < 3; i += 1) expect((await post(ENDPOINT_A, { order: i })).status).toBe(200);
    const samples = async (): Promise<unknown[]> => {
      const response = await fetch(`${server!.url}/v1/admin/integrations/a/samples`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      });
      return ((await response.json()) as { samples: unknown[] }).samples;
    };
    expect(await samples()).toHaveLength(3);

    await project.write(
      "integrations/a.yaml",
      integrationYaml({ id: "a", endpoint: ENDPOINT_A, extra: "samples: 1" }),
    );
    expect(await server.reloader.reload("test")).toBe(true);
    expect(await samples()).toEqual([
      expect.objectContaining({ request: expect.objectContaining({ body: { order: 2 } }) }),
    ]);

    await project.write(
      "integrations/a.yaml",
      integrationYaml({ id: "a", endpoint: ENDPOINT_A, extra: "samples: 0" }),
    );
    expect(await server.reloader.reload("test")).toBe(true);
    expect(await samples()).toEqual([]);
    // Not only hidden: the request bodies are gone from the store.
    await eventually(async () => expect(await server!.store.listSamples("a")).toEqual([]));
  });

  it("deletes the samples of an integration removed from the config, and at start those a config lowered or removed while down", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A, extra: "samples: 3" }),
      "integrations/b.yaml": integrationYaml({ id: "b", endpoint: ENDPOINT_B, extra: "samples: 3" }),
    });
    const store = `sqlite:${project.dir}/inlet.db`;
    server = await startServer(
      { INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN, INLET_STORE: store },
      TRIM_AT_ONCE,
    );
    for (let i = 0; i < 3; i += 1) {
      expect((await post(ENDPOINT_A, { order: i })).status).toBe(200);
      expect((await post(ENDPOINT_B, { order: i })).status).toBe(200);
    }
    await server.shutdown();
    await project.write(
      "integrations/a.yaml",
      integrationYaml({ id: "a", endpoint: ENDPOINT_A, extra: "samples: 1" }),
    );
    server = await startServer(
      { INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN, INLET_STORE: store },
      TRIM_AT_ONCE,
    );
    expect(await server.store.listSamples("a")).toHaveLength(1);
    expect(await server.store.listSamples("b")).toHaveLength(3);

    await project.remove("integrations/b.yaml");
    expect(await server.reloader.reload("test")).toBe(true);
    await eventually(async () => expect(await server!.store.listSamples("b")).toEqual([]));
    expect(await server.store.listSamples("a")).toHaveLength(1);

    await server.shutdown();
    await project.remove("integrations/a.yaml");
    await project.write("integrations/b.yaml", integrationYaml({ id: "b", endpoint: ENDPOINT_B }));
    server = await startServer(
      { INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN, INLET_STORE: store },
      TRIM_AT_ONCE,
    );
    expect(await server.store.listSamples("a")).toEqual([]);
  });
});
