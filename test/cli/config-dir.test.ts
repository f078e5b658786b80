import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { ENDPOINT_A, integrationYaml, tempProject, type TempProject } from "../helpers/temp-project.js";

let project: TempProject | undefined;
afterEach(() => project?.cleanup());

/** A config folder whose files a user may pass by mistake where the folder is expected. */
async function projectWithFiles(): Promise<TempProject> {
  return tempProject({
    "integrations/orders.yaml": integrationYaml({ id: "orders", endpoint: ENDPOINT_A }),
    "integrations/shop/keys.yaml": "kind: ApiKey\nid: shop\nsecretEnv: SHOP_KEY\npermissions: [incoming]\n",
    "workflows/x.test.yaml": "",
  });
}

describe("a file given where the config directory is expected", () => {
  it.each([
    ["validate", "integrations/orders.yaml"],
    ["test", "workflows/x.test.yaml"],
    // Nested deeper in a config folder: the folder holding integrations/ is still the one meant.
    ["validate", "integrations/shop/keys.yaml"],
  ])("`inlet %s %s` says it is a file and names the config directory", async (command, file) => {
    project = await projectWithFiles();
    const result = await runCli([command, file], { cwd: project.dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(
      `inlet: ${file} is a file, not the config directory (the folder holding integrations/ and workflows/): did you mean \`.\`?\n`,
    );
  });

  it("names the folder the file is in when no config directory holds it", async () => {
    project = await tempProject({ "loose/orders.yaml": "kind: Integration\n" });
    const result = await runCli(["validate", path.join(project.dir, "loose/orders.yaml")]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      / is a file, not the config directory .*: did you mean `.*[/\\]loose`\?\n$/,
    );
    expect(result.stderr).not.toMatch(/ENOTDIR/);
  });

  it("says where the path came from: INLET_DIR, or --dir", async () => {
    project = await projectWithFiles();
    const fromEnv = await runCli(["validate"], {
      cwd: project.dir,
      env: { INLET_DIR: "integrations/orders.yaml" },
    });
    expect(fromEnv.code).not.toBe(0);
    expect(fromEnv.stderr).toMatch(/^inlet: INLET_DIR=integrations\/orders\.yaml is a file, not the config/);
    const fromOption = await runCli(["token", "shop", "--dir", "integrations/orders.yaml"], {
      cwd: project.dir,
    });
    expect(fromOption.code).not.toBe(0);
    expect(fromOption.stderr).toMatch(/^inlet: --dir integrations\/orders\.yaml is a file, not the config/);
  });
});
