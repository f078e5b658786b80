import { existsSync, readdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import {
  ENDPOINT_A,
  ENDPOINT_B,
  integrationYaml,
  tempProject,
  type TempProject,
} from "../helpers/temp-project.js";

let project: TempProject | undefined;
afterEach(() => project?.cleanup());

const HASH = `sha256:${"0".repeat(64)}`;
const apiKeyYaml = (id: string): string =>
  `kind: ApiKey\nid: ${id}\nsecretHash: ${HASH}\npermissions: [incoming]\n`;

/** The files of a project folder, so a test can see that a refused command wrote nothing. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

async function inlet(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(args, { cwd: project!.dir });
}

describe("inlet new and apikey new refuse an id another file declares", () => {
  it("apikey new: an ApiKey in another file, second document of several", async () => {
    project = await tempProject({
      "integrations/keys.yaml": `${apiKeyYaml("erp")}---\n${apiKeyYaml("backend")}`,
    });
    const before = filesOf(project.dir);
    const result = await inlet(["apikey", "new", "backend"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'inlet: ApiKey "backend" already exists at integrations/keys.yaml:7:5: choose another id, or remove that document first\n',
    );
    expect(result.stdout).toBe("");
    expect(filesOf(project.dir)).toEqual(before);
  });

  it("new integration and new workflow: the same kind in a file of another name", async () => {
    project = await tempProject({
      "integrations/shop.yaml": integrationYaml({ id: "orders", endpoint: ENDPOINT_A }),
      "workflows/all.yaml": "kind: Workflow\nid: forward\n",
    });
    const before = filesOf(project.dir);
    const integration = await inlet(["new", "integration", "orders"]);
    expect(integration.code).toBe(2);
    expect(integration.stderr).toMatch(
      /^inlet: Integration "orders" already exists at integrations\/shop\.yaml:2:5:/,
    );
    // A document that breaks its schema still declares its id: it clashes as soon as it is fixed.
    const workflow = await inlet(["new", "workflow", "forward", "--integration", "orders"]);
    expect(workflow.code).toBe(2);
    expect(workflow.stderr).toMatch(/^inlet: Workflow "forward" already exists at workflows\/all\.yaml:2:5:/);
    expect(filesOf(project.dir)).toEqual(before);
  });

  it("ids are unique per kind, as validate judges them: an ApiKey may share an Integration's id", async () => {
    project = await tempProject({
      "integrations/shop.yaml": integrationYaml({ id: "orders", endpoint: ENDPOINT_A }),
    });
    expect((await inlet(["apikey", "new", "orders"])).code).toBe(0);
    expect((await inlet(["new", "workflow", "orders", "--integration", "orders"])).code).toBe(0);
    const validate = await inlet(["validate", "."]);
    expect(validate.stdout).toMatch(/^ok: 3 documents in 3 files$/m);
  });

  it("still scaffolds beside a file that does not parse, and says its ids were not checked", async () => {
    project = await tempProject({ "integrations/broken.yaml": "kind: ApiKey\nid: [oops\n" });
    const result = await inlet(["new", "integration", "orders"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "inlet: warning: integrations/broken.yaml could not be read or does not parse, so the ids in it were not checked (`inlet validate` shows why)\n",
    );
    expect(existsSync(path.join(project.dir, "integrations/orders.yaml"))).toBe(true);
  });

  it("names a file it could not read where a reference may be declared, rather than advising a duplicate", async () => {
    project = await tempProject();
    symlinkSync(path.join(project.dir, "nowhere.yaml"), path.join(project.dir, "integrations/shop.yaml"));
    const result = await inlet(["new", "workflow", "w", "--integration", "shop"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "inlet: warning: integrations/shop.yaml could not be read or does not parse, so the ids in it were not checked (`inlet validate` shows why)\n" +
        'inlet: no Integration "shop": the config folder declares no Integration yet; it may be in integrations/shop.yaml (unreadable or not parsing): fix that first, or create it with `inlet new integration shop`\n',
    );
    expect(existsSync(path.join(project.dir, "workflows/w.yaml"))).toBe(false);
  });
});

describe("inlet new refuses a reference to a document that does not exist", () => {
  it("new workflow --integration: names the missing one and lists the known ones", async () => {
    project = await tempProject({
      "integrations/b.yaml": integrationYaml({ id: "shop", endpoint: ENDPOINT_B }),
      "integrations/a.yaml": integrationYaml({ id: "crm", endpoint: ENDPOINT_A }),
    });
    const before = filesOf(project.dir);
    const result = await inlet(["new", "workflow", "w", "--integration", "nosuch"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'inlet: no Integration "nosuch" (known: crm, shop): name a known one, or create it first with `inlet new integration nosuch`\n',
    );
    expect(filesOf(project.dir)).toEqual(before);
  });

  it("new workflow --integration: says when there is none at all", async () => {
    project = await tempProject();
    const result = await inlet(["new", "workflow", "w", "--integration", "nosuch"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'inlet: no Integration "nosuch": the config folder declares no Integration yet; create it first with `inlet new integration nosuch`\n',
    );
    expect(filesOf(project.dir)).toEqual(["integrations", "workflows"]);
  });

  it("new integration --auth jwt --api-key: names the missing ApiKey", async () => {
    project = await tempProject({ "integrations/erp.apikey.yaml": apiKeyYaml("erp") });
    const before = filesOf(project.dir);
    const result = await inlet(["new", "integration", "k", "--auth", "jwt", "--api-key", "nosuch"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'inlet: no ApiKey "nosuch" (known: erp): name a known one, or create it first with `inlet apikey new nosuch`\n',
    );
    expect(filesOf(project.dir)).toEqual(before);
  });
});

describe("inlet new integration --api-key", () => {
  it("needs --auth jwt instead of being dropped", async () => {
    project = await tempProject({ "integrations/erp.apikey.yaml": apiKeyYaml("erp") });
    const before = filesOf(project.dir);
    for (const args of [
      ["--api-key", "erp"],
      ["--auth", "none", "--api-key", "erp"],
    ]) {
      const result = await inlet(["new", "integration", "k", ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe("inlet: --api-key needs --auth jwt\n");
    }
    expect(filesOf(project.dir)).toEqual(before);
  });
});

describe("an unknown command", () => {
  it("is named, with commander's suggestion, not taken for serve's arguments", async () => {
    project = await tempProject();
    const result = await inlet(["vaildate"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("error: unknown command 'vaildate'\n(Did you mean validate?)\n");
  });

  it("leaves serve the default for no arguments, an option or a path, and serve's own errors as they were", async () => {
    project = await tempProject({ "integrations/a.yaml": "kind: Integration\n" });
    // An invalid config makes serve refuse at once, which shows that serve ran.
    const plain = await runCli([], {
      cwd: project.dir,
      env: { INLET_DIR: project.dir, INLET_STORE: "memory:" },
    });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^inlet: refusing to start, the config is invalid:$/m);
    expect((await inlet(["--no-such-option"])).stderr).toBe("error: unknown option '--no-such-option'\n");
    const tooMany = "error: too many arguments for 'serve'. Expected 0 arguments but got 1.\n";
    expect((await inlet(["./config"])).stderr).toBe(tooMany);
    expect((await inlet(["serve", "extra"])).stderr).toBe(tooMany);
  });
});
