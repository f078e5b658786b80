import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createConfigLoader } from "../../src/config/load.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { ENDPOINT_A, ENDPOINT_B, tempProject, type TempProject } from "../helpers/temp-project.js";

const loader = createConfigLoader(builtinRegistry);
let project: TempProject | undefined;
afterEach(() => project?.cleanup());

/** Loads a config written from the given files; returns `file:line:col: code` per problem. */
async function problems(files: Record<string, string>): Promise<string[]> {
  project = await tempProject(files);
  const result = await loader.load(project.dir);
  if (result.ok) return [];
  const dir = project.dir;
  return result.diagnostics.map((d) => `${path.relative(dir, d.file)}:${d.line}:${d.col}: ${d.code}`);
}

async function messages(files: Record<string, string>): Promise<string[]> {
  project = await tempProject(files);
  const result = await loader.load(project.dir);
  return result.ok ? [] : result.diagnostics.map((d) => d.message);
}

const integration = (id: string, endpoint: string, extra = ""): string =>
  `kind: Integration\nid: ${id}\nendpoint: ${endpoint}\nauth:\n  type: none\n${extra}`;

const workflow = (id: string, nodes: string, integrationId = "shop"): string =>
  `kind: Workflow\nid: ${id}\ntrigger:\n  type: business-event\n  integration: ${integrationId}\nnodes:\n${nodes}`;

const endNode = "  - id: done\n    type: end\n";

describe("loading a config", () => {
  it("accepts the shipped example", async () => {
    const result = await loader.load(path.resolve("."));
    expect(result.ok ? [] : result.diagnostics).toEqual([]);
    if (!result.ok) return;
    expect(result.config.set.integrations.map(({ doc }) => doc.id)).toEqual(["shop-cart"]);
    expect([...result.config.workflows.keys()]).toEqual(["cart-to-custom-event"]);
    expect(result.config.set.tests).toHaveLength(1);
  });

  it("reads every document of a multi-document file", async () => {
    project = await tempProject({
      "integrations/all.yaml": `${integration("a", ENDPOINT_A)}---\n${integration("b", ENDPOINT_B)}`,
      "workflows/w.yml": workflow("w", endNode, "b"),
    });
    const result = await loader.load(project.dir);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config.set.integrations.map(({ doc }) => doc.id)).toEqual(["a", "b"]);
  });

  it.each([
    ["a trailing ---", `${integration("a", ENDPOINT_A)}---\n`],
    [
      "a leading --- and a document of comments only",
      `---\n# generated\n---\n${integration("a", ENDPOINT_A)}`,
    ],
  ])("skips the empty documents of a file with %s", async (_what, text) => {
    expect(await problems({ "integrations/a.yaml": text })).toEqual([]);
  });

  it("follows symbolic links to files and folders, as a Kubernetes ConfigMap mounts them, and skips dot-folders", async () => {
    project = await tempProject({ "integrations/.gitkeep": "" });
    const dir = project.dir;
    // What a ConfigMap mount looks like: a.yaml → ..data/a.yaml, ..data → ..2026_12_06/.
    mkdirSync(path.join(dir, "integrations/..2026_12_06"));
    writeFileSync(path.join(dir, "integrations/..2026_12_06/a.yaml"), integration("a", ENDPOINT_A));
    symlinkSync("..2026_12_06", path.join(dir, "integrations/..data"));
    symlinkSync("..data/a.yaml", path.join(dir, "integrations/a.yaml"));
    // A shared folder linked in, and a link back up the tree that must not loop.
    mkdirSync(path.join(dir, "shared"));
    writeFileSync(path.join(dir, "shared/b.yaml"), integration("b", ENDPOINT_B));
    symlinkSync(path.join(dir, "shared"), path.join(dir, "integrations/shared"));
    symlinkSync(path.join(dir, "integrations"), path.join(dir, "shared/loop"));
    const result = await loader.load(dir);
    expect(result.ok ? [] : result.diagnostics).toEqual([]);
    if (result.ok) expect(result.config.set.integrations.map(({ doc }) => doc.id).sort()).toEqual(["a", "b"]);
  });

  it("reports a link to nothing, and a config folder that is not a folder, as io problems at their path", async () => {
    project = await tempProject({ "workflows/.gitkeep": "" });
    const dir = project.dir;
    rmSync(path.join(dir, "integrations"), { recursive: true, force: true });
    writeFileSync(path.join(dir, "integrations"), "not a folder");
    const diagnostics = async () => {
      const result = await loader.load(dir);
      return result.ok ? [] : result.diagnostics.map((d) => `${path.relative(dir, d.file)}: ${d.code}`);
    };
    expect(await diagnostics()).toEqual(["integrations: io"]);
    rmSync(path.join(dir, "integrations"));
    mkdirSync(path.join(dir, "integrations"));
    symlinkSync("gone.yaml", path.join(dir, "integrations/a.yaml"));
    expect(await diagnostics()).toEqual(["integrations/a.yaml: io"]);
    renameSync(path.join(dir, "integrations/a.yaml"), path.join(dir, "integrations/.a.yaml"));
    expect(await diagnostics()).toEqual([]);
  });

  it("positions a problem in the second document of a file on its own line", async () => {
    expect(
      await problems({
        "integrations/all.yaml": `${integration("a", ENDPOINT_A)}---\n${integration("b", "not-a-uuid")}`,
      }),
    ).toEqual(["integrations/all.yaml:9:11: schema"]);
  });

  it("reports YAML syntax errors with their position", async () => {
    expect(await problems({ "integrations/a.yaml": "kind: Integration\nid: [unclosed\n" })).toEqual([
      expect.stringMatching(/^integrations\/a\.yaml:\d+:\d+: yaml-syntax$/),
    ]);
  });

  it("reports a missing required field at the object that lacks it", async () => {
    expect(
      await problems({ "integrations/a.yaml": "kind: Integration\nid: a\nauth:\n  type: none\n" }),
    ).toEqual(["integrations/a.yaml:1:1: schema"]);
    expect(
      await messages({ "integrations/a.yaml": "kind: Integration\nid: a\nauth:\n  type: none\n" }),
    ).toEqual(['missing required field "endpoint"']);
  });

  it("reports only the missing type of an auth that lacks one, not every kind's fields", async () => {
    expect(
      await messages({
        "integrations/a.yaml": `kind: Integration\nid: a\nendpoint: ${ENDPOINT_A}\nauth:\n  apiKey: shop\n`,
      }),
    ).toEqual(['auth: missing required field "type"']);
  });

  it("says dedup takes params or a header, not both, rather than calling either unknown", async () => {
    const text = integration("a", ENDPOINT_A, "dedup:\n  params: [body.x]\n  header: X-Hash\n  tll: 7d\n");
    expect(await problems({ "integrations/a.yaml": text })).toEqual([
      "integrations/a.yaml:7:3: schema",
      "integrations/a.yaml:9:3: schema",
    ]);
    expect(await messages({ "integrations/a.yaml": text })).toEqual([
      "dedup: set params or header, not both",
      'dedup: unknown field "tll"',
    ]);
  });

  it("says once that a file given as the config directory is a file", async () => {
    project = await tempProject({ "integrations/a.yaml": integration("a", ENDPOINT_A) });
    const file = path.join(project.dir, "integrations/a.yaml");
    const result = await loader.load(file);
    expect(result.ok ? [] : result.diagnostics.map((d) => [d.line, d.col, d.code, d.message])).toEqual([
      [
        1,
        1,
        "io",
        "this is a file, not the config directory (the folder holding integrations/ and workflows/)",
      ],
    ]);
  });

  it("points at the key of an unknown field", async () => {
    expect(await problems({ "integrations/a.yaml": integration("a", ENDPOINT_A, "colour: red\n") })).toEqual([
      "integrations/a.yaml:6:1: schema",
    ]);
  });

  it("explains ids, durations, sizes and rates in words", async () => {
    const text = integration(
      "Bad_Id",
      ENDPOINT_A,
      "dedup:\n  params: [body.x]\n  ttl: 7 days\nmaxBodySize: 1gb\nrateLimit: fast\n",
    );
    expect(await problems({ "integrations/a.yaml": text })).toEqual([
      "integrations/a.yaml:2:5: schema",
      "integrations/a.yaml:8:8: schema",
      "integrations/a.yaml:9:14: schema",
      "integrations/a.yaml:10:12: schema",
    ]);
    expect(await messages({ "integrations/a.yaml": text })).toEqual([
      "id: must be lower-case letters, digits and dashes, at most 63, starting with a letter or digit",
      "dedup.ttl: must be a duration such as 500ms, 10s, 5m, 1h or 7d",
      "maxBodySize: must be a size such as 512kb or 1mb",
      "rateLimit: must be a rate such as 50/s, 600/m or 1000/h",
    ]);
  });

  it("refuses more than 5 dedup params and a malformed param path", async () => {
    const six = integration(
      "a",
      ENDPOINT_A,
      "dedup:\n  params: [body.a, body.b, body.c, body.d, body.e, body.f]\n",
    );
    expect(await problems({ "integrations/a.yaml": six })).toEqual(["integrations/a.yaml:7:11: schema"]);
    const bad = integration("a", ENDPOINT_A, "dedup:\n  params:\n    - body.ok\n    - cookies.x\n");
    expect(await problems({ "integrations/a.yaml": bad })).toEqual(["integrations/a.yaml:9:7: dedup-param"]);
  });

  it("reports an unknown document kind", async () => {
    expect(await problems({ "integrations/a.yaml": "kind: Integrashun\nid: a\n" })).toEqual([
      "integrations/a.yaml:1:7: unknown-kind",
    ]);
  });

  it("finds duplicate ids and endpoints across files", async () => {
    expect(
      await problems({
        "integrations/a.yaml": integration("a", ENDPOINT_A),
        "integrations/b.yaml": integration("a", ENDPOINT_A.toUpperCase()),
      }),
    ).toEqual(["integrations/b.yaml:2:5: duplicate-id", "integrations/b.yaml:3:11: duplicate-endpoint"]);
  });

  it("checks references: workflow → integration, integration → ApiKey, test → workflow", async () => {
    expect(
      await problems({
        "integrations/a.yaml": integration("shop", ENDPOINT_A).replace(
          "type: none",
          "type: jwt\n  apiKey: missing",
        ),
        "workflows/w.yaml": workflow("w", endNode, "nowhere"),
        "workflows/w.test.yaml": "kind: WorkflowTest\nworkflow: other\ncases:\n  - name: x\n",
      }),
    ).toEqual([
      "integrations/a.yaml:6:11: unknown-ref",
      "workflows/w.test.yaml:2:11: unknown-ref",
      "workflows/w.yaml:5:16: unknown-ref",
    ]);
  });

  it("does not call a reference unknown when the document it names only failed its schema check", async () => {
    expect(
      await problems({
        "integrations/a.yaml": integration("shop", ENDPOINT_A, "rateLimit: fast\n"),
        "workflows/w.yaml": workflow("w", "  - id: a\n    type: end\n"),
      }),
    ).toEqual(["integrations/a.yaml:6:12: schema"]);
  });

  it("checks the graph: unknown next, cycles, unreachable nodes", async () => {
    const files = (nodes: string): Record<string, string> => ({
      "integrations/a.yaml": integration("shop", ENDPOINT_A),
      "workflows/w.yaml": workflow("w", nodes),
    });
    expect(
      await problems(
        files("  - id: a\n    type: end\n  - id: b\n    type: set\n    values: { x: '1' }\n    next: nope\n"),
      ),
    ).toEqual(["workflows/w.yaml:12:11: unknown-node"]);
    expect(
      await problems(
        files(
          "  - id: a\n    type: set\n    values: { x: '1' }\n    next: b\n  - id: b\n    type: set\n    values: { y: '2' }\n    next: a\n",
        ),
      ),
    ).toEqual(["workflows/w.yaml:14:11: cycle"]);
    expect(await problems(files("  - id: a\n    type: end\n  - id: b\n    type: end\n"))).toEqual([
      "workflows/w.yaml:9:9: unreachable",
    ]);
  });

  it("checks template syntax at the string that holds it", async () => {
    const nodes =
      "  - id: send\n    type: outgoing-integration\n    method: POST\n    url: http://example.test/\n    body:\n      email: '{{ request.body.email '\n";
    expect(
      await problems({
        "integrations/a.yaml": integration("shop", ENDPOINT_A),
        "workflows/w.yaml": workflow("w", nodes),
      }),
    ).toEqual(["workflows/w.yaml:12:14: template-syntax"]);
  });

  it("reports a workflow's template errors beside its graph's, in one round", async () => {
    const nodes =
      "  - id: a\n    type: set\n    values: { x: '{{ request.body. }}' }\n    next: b\n  - id: b\n    type: set\n    values: { y: '2' }\n    next: a\n";
    expect(
      await problems({
        "integrations/a.yaml": integration("shop", ENDPOINT_A),
        "workflows/w.yaml": workflow("w", nodes),
      }),
    ).toEqual(["workflows/w.yaml:9:18: template-syntax", "workflows/w.yaml:14:11: cycle"]);
  });

  it.each(["0s", "30d"])(
    "refuses an outgoing timeout of %s, which could not be kept, at its value",
    async (timeout) => {
      const nodes = `  - id: send\n    type: outgoing-integration\n    method: POST\n    url: http://example.test/\n    timeout: ${timeout}\n`;
      expect(
        await problems({
          "integrations/a.yaml": integration("shop", ENDPOINT_A),
          "workflows/w.yaml": workflow("w", nodes),
        }),
      ).toEqual(["workflows/w.yaml:11:14: invalid-value"]);
    },
  );

  it.each(["0s", "366d"])("refuses a dedup ttl of %s at its value", async (ttl) => {
    expect(
      await problems({
        "integrations/a.yaml": integration(
          "shop",
          ENDPOINT_A,
          `dedup:\n  params: [body.id]\n  ttl: ${ttl}\n`,
        ),
      }),
    ).toEqual(["integrations/a.yaml:8:8: invalid-value"]);
  });

  it("reports every problem of every file at once", async () => {
    const found = await problems({
      "integrations/a.yaml": integration("a", "nope"),
      "integrations/b.yaml": "kind: ApiKey\nid: k\npermissions: [incoming]\n",
      "workflows/w.yaml": workflow("w", "  - id: x\n    type: teleport\n"),
    });
    expect(found).toEqual([
      "integrations/a.yaml:3:11: schema",
      "integrations/b.yaml:1:1: schema",
      "workflows/w.yaml:8:11: schema",
    ]);
  });
});
