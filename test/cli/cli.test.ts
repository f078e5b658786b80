import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SERVE_NODE_FLAGS } from "../../src/cli/serve.js";
import { MAX_BODY_DEPTH, MAX_BODY_LEAVES } from "../../src/defaults.js";
import { CLI, runCli, spawnServer } from "../helpers/cli.js";
import { ENDPOINT_A, integrationYaml, tempProject, type TempProject } from "../helpers/temp-project.js";

let project: TempProject | undefined;

/** Waits until the server's output holds `text` (the port is printed before the start has ended). */
async function untilLogged(server: { output: () => string }, text: string): Promise<void> {
  while (!server.output().includes(text)) await new Promise((resolve) => setTimeout(resolve, 20));
}
afterEach(() => project?.cleanup());

describe("inlet validate", () => {
  it("passes the shipped example", async () => {
    const result = await runCli(["validate"]);
    expect(result.stdout).toMatch(/^ok: 4 documents in 4 files$/m);
    expect(result.code).toBe(0);
  });

  it("prints file:line:col per problem and exits 1", async () => {
    project = await tempProject({ "integrations/a.yaml": integrationYaml({ id: "a", endpoint: "nope" }) });
    const result = await runCli(["validate", "."], { cwd: project.dir });
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe(
      "integrations/a.yaml:3:11: schema endpoint: must be a UUID such as 3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11 (`inlet new integration` generates one)",
    );
  });

  it("--format github annotates the line", async () => {
    project = await tempProject({ "integrations/a.yaml": integrationYaml({ id: "a", endpoint: "nope" }) });
    const result = await runCli(["validate", ".", "--format", "github"], { cwd: project.dir });
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toMatch(
      /^::error file=integrations\/a\.yaml,line=3,col=11,title=schema::endpoint: must be a UUID/,
    );
  });

  it("--format json is one document", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    });
    const result = await runCli(["validate", ".", "--format", "json"], { cwd: project.dir });
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, problems: [] });
    expect(result.code).toBe(0);
  });
});

describe("inlet new", () => {
  it("scaffolds an integration and a workflow that validate", async () => {
    project = await tempProject();
    expect((await runCli(["new", "integration", "orders"], { cwd: project.dir })).code).toBe(0);
    expect((await runCli(["apikey", "new", "erp"], { cwd: project.dir })).code).toBe(0);
    expect(
      (
        await runCli(["new", "integration", "erp-orders", "--auth", "jwt", "--api-key", "erp"], {
          cwd: project.dir,
        })
      ).code,
    ).toBe(0);
    expect(
      (await runCli(["new", "workflow", "forward", "--integration", "orders"], { cwd: project.dir })).code,
    ).toBe(0);
    const result = await runCli(["validate", "."], { cwd: project.dir });
    expect(result.stdout).toMatch(/^ok: 4 documents in 4 files$/m);
    const text = readFileSync(path.join(project.dir, "integrations/orders.yaml"), "utf8");
    expect(text).toMatch(/^endpoint: [0-9a-f-]{36}$/m);
  });

  it("generates a different endpoint each time and never overwrites a file", async () => {
    project = await tempProject();
    await runCli(["new", "integration", "a"], { cwd: project.dir });
    await runCli(["new", "integration", "b"], { cwd: project.dir });
    const endpoint = (file: string): string =>
      /^endpoint: (.*)$/m.exec(readFileSync(path.join(project!.dir, file), "utf8"))![1]!;
    expect(endpoint("integrations/a.yaml")).not.toBe(endpoint("integrations/b.yaml"));
    const again = await runCli(["new", "integration", "a"], { cwd: project.dir });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
  });

  it("apikey new prints the secret once and stores only its hash", async () => {
    project = await tempProject();
    const result = await runCli(["apikey", "new", "erp"], { cwd: project.dir });
    const secret = result.stdout.trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const text = readFileSync(path.join(project.dir, "integrations/erp.apikey.yaml"), "utf8");
    expect(text).not.toContain(secret);
    expect(text).toMatch(/^secretHash: sha256:[0-9a-f]{64}$/m);
  });
});

describe("inlet serve", () => {
  it("refuses an invalid config with file:line:col and exit code 1", async () => {
    project = await tempProject({ "integrations/a.yaml": integrationYaml({ id: "a", endpoint: "nope" }) });
    const result = await runCli(["serve"], {
      env: { INLET_DIR: project.dir, INLET_STORE: "memory:", PORT: "0" },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/integrations\/a\.yaml:3:11: schema endpoint/);
  });
});

describe("the inlet command", () => {
  it("names only node on its first line, so it starts where env takes no options (BusyBox, as on Alpine)", () => {
    expect(readFileSync(CLI, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });

  it("npm start and scripts/two-instances.sh pass the serve flags; serve says when node runs without them", async () => {
    const startScript = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: { start: string } })
      .scripts.start;
    expect(startScript).toBe(`node ${SERVE_NODE_FLAGS.join(" ")} dist/src/main.js serve`);
    expect(readFileSync("scripts/two-instances.sh", "utf8")).toContain(
      `node ${SERVE_NODE_FLAGS.join(" ")} dist/src/main.js serve &`,
    );
    const env = { INLET_STORE: "memory:", LOG_LEVEL: "info", NODE_OPTIONS: "" };
    // Node refuses these in NODE_OPTIONS: they can only come from the command line.
    const commandLineOnly: readonly string[] = [
      "--min-semi-space-size=32",
      "--single-threaded-gc",
      "--no-allocation-site-pretenuring",
    ];
    const allowedInOptions = SERVE_NODE_FLAGS.filter((flag) => !commandLineOnly.includes(flag)).join(" ");
    const started: Array<Awaited<ReturnType<typeof spawnServer>>> = [];
    const start = async (...args: Parameters<typeof spawnServer>): ReturnType<typeof spawnServer> => {
      const server = await spawnServer(...args);
      started.push(server);
      return server;
    };
    try {
      const servers = {
        plain: await start(env),
        tuned: await start(env, SERVE_NODE_FLAGS),
        // The rest in NODE_OPTIONS and those on the command line is tuned.
        split: await start({ ...env, NODE_OPTIONS: allowedInOptions }, commandLineOnly),
        // Without them, the others in NODE_OPTIONS are not.
        partial: await start({ ...env, NODE_OPTIONS: allowedInOptions }),
      };
      await Promise.all(Object.values(servers).map((server) => untilLogged(server, "inlet listening")));
      expect(servers.plain.output()).toContain("starting without the V8 flags that npm start passes");
      expect(servers.partial.output()).toContain("starting without the V8 flags that npm start passes");
      expect(servers.tuned.output()).not.toContain("starting without the V8 flags");
      expect(servers.split.output()).not.toContain("starting without the V8 flags");
    } finally {
      for (const server of started) server.child.kill("SIGKILL");
    }
  });
});

describe("inlet flatten", () => {
  it("prints the seed's body as paths", async () => {
    const body = { customer_email: "example@example.com", products: [{ name: "Earwax" }], "a.b": true };
    const result = await runCli(["flatten"], { input: JSON.stringify(body) });
    expect(result.stdout.split("\n")).toEqual([
      "body.customer_email = example@example.com",
      "body.products.0.name = Earwax",
      'body["a.b"] = true',
      "",
    ]);
  });

  it.each([
    [["flatten", "no-such.json"], undefined, /^inlet: cannot read no-such\.json: .*ENOENT.*\n$/],
    [
      ["flatten", "--request"],
      "null",
      /^inlet: stdin: --request takes a request \{body, headers, query\}.*\n$/,
    ],
  ])("refuses %j in one line, without a stack trace", async (args, input, message) => {
    const result = await runCli(args, input === undefined ? {} : { input });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it.each([
    ["a scalar body", ["flatten"], "42", "400 body-not-object: The body must be a JSON object or array"],
    ["a null body", ["flatten"], "null", "400 body-not-object: The body must be a JSON object or array"],
    [
      "a scalar body in a request",
      ["flatten", "--request"],
      '{"body":"text"}',
      "400 body-not-object: The body must be a JSON object or array",
    ],
    [
      "a body nested deeper than the server takes",
      ["flatten"],
      `${"[".repeat(MAX_BODY_DEPTH + 1)}${"]".repeat(MAX_BODY_DEPTH + 1)}`,
      "413 body-too-complex: The body is nested too deeply or has too many values",
    ],
    [
      "a body with more values than the server takes",
      ["flatten"],
      JSON.stringify(Array.from({ length: MAX_BODY_LEAVES + 1 }, (_, i) => i)),
      "413 body-too-complex: The body is nested too deeply or has too many values",
    ],
    [
      "a request body nested deeper than the server takes",
      ["flatten", "--request"],
      `{"body":${'{"a":'.repeat(MAX_BODY_DEPTH + 1)}1${"}".repeat(MAX_BODY_DEPTH + 1)}}`,
      "413 body-too-complex: The body is nested too deeply or has too many values",
    ],
  ])("refuses %s as the server does", async (_name, args, input, answer) => {
    const result = await runCli(args, { input });
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`inlet: stdin: the server would answer ${answer}\n`);
    expect(result.code).toBe(2);
  });

  it("takes a body as deep and as large as the server takes", async () => {
    const deep = `${"[".repeat(MAX_BODY_DEPTH)}${"]".repeat(MAX_BODY_DEPTH)}`;
    const result = await runCli(["flatten"], { input: deep });
    expect(result.stdout).toBe(`body${".0".repeat(MAX_BODY_DEPTH - 1)} = []\n`);
    const wide = JSON.stringify(Array.from({ length: MAX_BODY_LEAVES }, (_, i) => i));
    expect((await runCli(["flatten"], { input: wide })).code).toBe(0);
  });

  it.each([
    ['{"x":1}', "this has none of body, headers, query"],
    ["[]", "this is an array"],
    ['{"headers":["a"]}', "its headers is an array"],
    ['{"query":"a=1"}', "its query is a string"],
  ])("--request refuses %s, saying what it takes", async (input, found) => {
    const result = await runCli(["flatten", "--request"], { input });
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `inlet: stdin: --request takes a request {body, headers, query} (headers and query objects), as a sample's "request" holds; ${found}: without --request, the JSON is the body\n`,
    );
    expect(result.code).toBe(2);
  });

  it("--request flattens a sample's request: body, headers and query", async () => {
    const request = { method: "POST", headers: { "X-Id": "7" }, query: { a: ["1", "2"] }, body: { b: true } };
    const result = await runCli(["flatten", "--request"], { input: JSON.stringify(request) });
    expect(result.stdout.split("\n")).toEqual([
      "body.b = true",
      "headers.x-id = 7",
      "query.a.0 = 1",
      "query.a.1 = 2",
      "",
    ]);
  });

  it("stops quietly when its reader stops reading (| head)", async () => {
    // As large as the server takes, and many times what a pipe holds.
    const body = Object.fromEntries(Array.from({ length: MAX_BODY_LEAVES }, (_, i) => [`key${i}`, i]));
    const child = spawn(process.execPath, [CLI, "flatten"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    child.stdin.end(JSON.stringify(body));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});

describe("inlet token", () => {
  it("without INLET_JWT_SECRET or a server's database, says so and leaves no database behind", async () => {
    project = await tempProject({
      "integrations/keys.yaml": "kind: ApiKey\nid: shop\nsecretEnv: SHOP_KEY\npermissions: [incoming]\n",
    });
    const env = { INLET_DIR: project.dir, INLET_JWT_SECRET: "", INLET_STORE: "" };
    const result = await runCli(["token", "shop"], { cwd: project.dir, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no INLET_JWT_SECRET and no generated secret/);
    expect(existsSync(path.join(project.dir, "data"))).toBe(false);
  });
});
