import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.js";
import { ENDPOINT_A, integrationYaml, tempProject, type TempProject } from "../helpers/temp-project.js";

let project: TempProject | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

const WORKFLOW = [
  "kind: Workflow",
  "id: notify",
  "trigger: { type: business-event, integration: orders }",
  "nodes:",
  "  - id: send",
  "    type: outgoing-integration",
  "    method: POST",
  '    url: "{{ env.API_BASE_URL }}/notify"',
  "    body:",
  '      email: "{{ request.body.email }}"',
  '      items: "{{ request.body.items }}"',
].join("\n");

function testYaml(expectedEmail: string): string {
  return [
    "kind: WorkflowTest",
    "workflow: notify",
    "cases:",
    "  - name: forwards the email",
    "    request:",
    "      body: { email: a@b.c, items: [1, 2] }",
    "    env: { API_BASE_URL: https://api.example.com }",
    "    expect:",
    "      status: succeeded",
    "      calls:",
    "        - node: send",
    "          url: https://api.example.com/notify",
    `          body: { email: ${expectedEmail}, items: [1, 2] }`,
    "  - name: fails on a 400",
    "    request: { body: { email: a@b.c } }",
    "    env: { API_BASE_URL: https://api.example.com }",
    "    responses: { send: { status: 400 } }",
    "    expect: { status: failed }",
  ].join("\n");
}

async function notifyProject(expectedEmail: string): Promise<TempProject> {
  return tempProject({
    "integrations/orders.yaml": integrationYaml({ id: "orders", endpoint: ENDPOINT_A }),
    "workflows/notify.yaml": WORKFLOW,
    "workflows/notify.test.yaml": testYaml(expectedEmail),
  });
}

describe("inlet test", () => {
  it("passes every case of the shipped workflow tests and exits 0", async () => {
    const shipped = parse(readFileSync("workflows/cart-to-custom-event.test.yaml", "utf8")) as {
      cases: { name: string }[];
    };
    const result = await runCli(["test"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const { name } of shipped.cases) expect(result.stdout).toContain(`✓ ${name}`);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe(`${shipped.cases.length} passed, 0 failed`);
  });

  it("passes a project whose expectations hold", async () => {
    project = await notifyProject("a@b.c");
    const result = await runCli(["test", project.dir]);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("2 passed, 0 failed");
  });

  it("exits 1 on a failed expectation and shows where the call differs, expected against actual", async () => {
    project = await notifyProject("someone@else.example");
    const result = await runCli(["test"], { cwd: project.dir });
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toContain("  ✗ forwards the email");
    expect(lines).toContain("  ✓ fails on a 400");
    expect(lines).toContain('      calls[0].body.email: expected "someone@else.example", got "a@b.c"');
    expect(lines.at(-1)).toBe("1 passed, 1 failed");
  });

  it("refuses an invalid config with its file:line:col and exit 1, running nothing", async () => {
    project = await notifyProject("a@b.c");
    await project.write("workflows/notify.yaml", WORKFLOW.replace("id: send", "id: send\n    next: nowhere"));
    const result = await runCli(["test", project.dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/workflows\/notify\.yaml:\d+:\d+: /);
    expect(result.stdout).not.toMatch(/passed/);
  });
});
