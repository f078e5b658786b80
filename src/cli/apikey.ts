import path from "node:path";
import { Command } from "commander";
import { generateSecret, hashSecret } from "../auth/api-keys.js";
import { configDir } from "./config-dir.js";
import { checkId, declaredIdsIn } from "./new.js";
import { apiKeyYaml, refuseDeclaredId, writeNewFile } from "./scaffold.js";

export function apiKeyCommand(): Command {
  const command = new Command("apikey").description("manage API keys");
  command
    .command("new")
    .description("print a new secret once and write integrations/<id>.apikey.yaml with its hash")
    .argument("<id>")
    .option("--dir <dir>", "config folder (default: INLET_DIR or .)")
    .action(async (id: string, options: { dir?: string }) => {
      const dir = configDir(options.dir, "--dir");
      const file = path.join(dir, "integrations", `${checkId(id)}.apikey.yaml`);
      refuseDeclaredId(await declaredIdsIn(dir), "ApiKey", id);
      const secret = generateSecret();
      await writeNewFile(file, apiKeyYaml({ id, secretHash: hashSecret(secret) }));
      process.stderr.write(`wrote ${file}; the secret is shown once, store it now:\n`);
      process.stdout.write(`${secret}\n`);
    });
  return command;
}
