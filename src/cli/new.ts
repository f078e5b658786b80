import path from "node:path";
import { Command, Option } from "commander";
import { ID_PATTERN } from "../config/documents.js";
import { InletError } from "../errors.js";
import { configDir } from "./config-dir.js";
import { integrationYaml, workflowYaml, writeNewFile } from "./scaffold.js";

export function checkId(id: string): string {
  if (!new RegExp(ID_PATTERN).test(id)) {
    throw new InletError(
      "invalid-id",
      `"${id}" is not a valid id: lower-case letters, digits and dashes, at most 63`,
    );
  }
  return id;
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
      const file = path.join(configDir(options.dir), "integrations", `${checkId(id)}.yaml`);
      const apiKey = options.apiKey === undefined ? undefined : checkId(options.apiKey);
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
      const file = path.join(configDir(options.dir), "workflows", `${checkId(id)}.yaml`);
      await writeNewFile(file, workflowYaml({ id, integration: checkId(options.integration) }));
      process.stdout.write(`wrote ${file}\n`);
    });
  return command;
}
