import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, spawnServer } from "../helpers/cli.js";
import { tempProject, type TempProject } from "../helpers/temp-project.js";

const ADMIN_TOKEN = "admin-token-for-the-cli-tests";

type Server = Awaited<ReturnType<typeof spawnServer>>;
let project: TempProject;
let withoutAdmin: Server;
let withAdmin: Server;

beforeAll(async () => {
  project = await tempProject();
  const env = { INLET_DIR: project.dir, INLET_STORE: "memory:", INLET_WATCH: "false" };
  [withoutAdmin, withAdmin] = await Promise.all([
    spawnServer({ ...env, INLET_ADMIN_TOKEN: "" }),
    spawnServer({ ...env, INLET_ADMIN_TOKEN: ADMIN_TOKEN }),
  ]);
});

afterAll(() => {
  withoutAdmin?.child.kill("SIGKILL");
  withAdmin?.child.kill("SIGKILL");
  project?.cleanup();
});

const urlOf = (server: Server): string => `http://127.0.0.1:${server.port}`;

describe("admin commands against a server that serves no admin API", () => {
  it("says the server may have been started without INLET_ADMIN_TOKEN, not that the CLI lacks it", async () => {
    const result = await runCli(["runs"], {
      env: { INLET_URL: urlOf(withoutAdmin), INLET_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("→ 404: Nothing is served at this address");
    expect(result.stderr).toMatch(/serves no admin API/);
    expect(result.stderr).toMatch(/started with INLET_ADMIN_TOKEN set/);
    expect(result.stderr).toContain(`INLET_URL=${urlOf(withoutAdmin)} points at something else`);
  });

  it("names --url when that is what the CLI used", async () => {
    const result = await runCli(["samples", "orders", "--url", urlOf(withoutAdmin)], {
      env: { INLET_URL: "", INLET_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/serves no admin API/);
    expect(result.stderr).toContain(`--url ${urlOf(withoutAdmin)} points at something else`);
  });

  it("asks whether the URL is an inlet server when a 404 is not inlet's", async () => {
    const other = http.createServer((_req, res) => res.writeHead(404).end("<h1>Not Found</h1>"));
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = other.address() as AddressInfo;
      const result = await runCli(["runs"], {
        env: { INLET_URL: `http://127.0.0.1:${port}`, INLET_ADMIN_TOKEN: ADMIN_TOKEN },
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/→ 404: Not Found/);
      expect(result.stderr).toContain(`Is INLET_URL=http://127.0.0.1:${port} an inlet server?`);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

describe("admin commands against a server that serves the admin API", () => {
  it("gives a 404 of the admin API itself (no such run) without the hint", async () => {
    const result = await runCli(["runs", "show", "no-such-run"], {
      env: { INLET_URL: urlOf(withAdmin), INLET_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe("inlet: GET /v1/admin/runs/no-such-run → 404: No run with this id\n");
  });

  it("still works with the server's token", async () => {
    const result = await runCli(["runs"], {
      env: { INLET_URL: urlOf(withAdmin), INLET_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
