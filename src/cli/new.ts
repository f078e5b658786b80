import path from "node:path";
import { Command, Option } from "commander";
import { ID_PATTERN } from "../config/documents.js";
import { InletError } from "../errors.js";
import { configDir } from "./config-dir.js";
import {
  integrationYaml,
  readDeclaredIds,
  refuseDeclaredId,
  requireDeclaredId,
  workflowYaml,
  writeNewFile,
  type DeclaredIds,
} from "./scaffold.js";

export function checkId(id: string): string {
  if (!new RegExp(ID_PATTERN).test(id)) {
    throw new InletError(
      "invalid-id",
      `"${id}" is not a valid id: lower-case letters, digits and dashes, at most 63`,
    );
  }
  return id;
}

/**
 * The ids the config folder declares. A file that does not parse is named in a warning rather
 * than blocking the command: `inlet validate` already reports it, and a clash it hides shows
 * there once it is fixed.
 */
export async function declaredIdsIn(dir: string): Promise<DeclaredIds> {
  const declared = await readDeclaredIds(dir);
  for (const file of declared.unchecked) {
    process.stderr.write(
      `inlet: warning: ${file} could not be read or does not parse, so the ids in it were not checked (\`inlet validate\` shows why)\n`,
    );
  }
  return declared;
}

export function newCommand(): Command {
  const command = new Command("new").description("scaffold a valid document file");
  command
    .command("integration")
    .description("write integrations/<id>.yaml with a random endpoint UUID")
    .argument("<id>")
    .addOption(new Option("--auth <type>", "authentication").choices(["none", "jwt"]).default("none"))
    .option("--api-key <id>", "with --auth jwt: the ApiKey whose tokens are accepted")
    .option("--dir <dir>", "config folder (default: INLET_DIR or .)")
    .action(async (id: string, options: { auth: "none" | "jwt"; apiKey?: string; dir?: string }) => {
      if (options.auth === "jwt" && !options.apiKey) {
        throw new InletError("missing-option", "--auth jwt needs --api-key <id>");
      }
      if (options.auth !== "jwt" && options.apiKey !== undefined) {
        throw new InletError("conflicting-options", "--api-key needs --auth jwt");
      }
      const dir = configDir(options.dir, "--dir");
      const file = path.join(dir, "integrations", `${checkId(id)}.yaml`);
      const apiKey = options.apiKey === undefined ? undefined : checkId(options.apiKey);
      const declared = await declaredIdsIn(dir);
      refuseDeclaredId(declared, "Integration", id);
      if (apiKey !== undefined) {
        requireDeclaredId(declared, { kind: "ApiKey", id: apiKey, createWith: `inlet apikey new ${apiKey}` });
      }
      await writeNewFile(file, integrationYaml({ id, auth: options.auth, apiKey }));
      process.stdout.write(`wrote ${file}\n`);
    });
  command
    .command("workflow")
    .description("write workflows/<id>.yaml triggered by an integration")
    .argument("<id>")
    .requiredOption("--integration <id>", "the Integration that triggers it")
    .option("--dir <dir>", "config folder (default: INLET_DIR or .)")
    .action(async (id: string, options: { integration: string; dir?: string }) => {
      const dir = configDir(options.dir, "--dir");
      const file = path.join(dir, "workflows", `${checkId(id)}.yaml`);
      const integration = checkId(options.integration);
      const declared = await declaredIdsIn(dir);
      refuseDeclaredId(declared, "Workflow", id);
      requireDeclaredId(declared, {
        kind: "Integration",
        id: integration,
        createWith: `inlet new integration ${integration}`,
      });
      await writeNewFile(file, workflowYaml({ id, integration }));
      process.stdout.write(`wrote ${file}\n`);
    });
  return command;
}
