import { Command, Option } from "commander";
import { createConfigLoader } from "../config/load.js";
import { buildSnapshot } from "../config/snapshot.js";
import { FORMATS, formatDiagnostics, type Format } from "../config/format/format.js";
import { builtinRegistry } from "../nodes/registry.js";
import { configDir } from "./config-dir.js";

export function validateCommand(): Command {
  return new Command("validate")
    .description("validate every document: schema, references, ids, endpoints, graphs, templates")
    .argument("[dir]", "folder holding integrations/ and workflows/ (default: INLET_DIR or .)")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("text"))
    .action(async (dir: string | undefined, options: { format: Format }) => {
      const loaded = await createConfigLoader(builtinRegistry).load(configDir(dir));
      const built = loaded.ok
        ? buildSnapshot(loaded.config, { env: process.env, jwtKey: null, requireSecrets: false })
        : loaded;
      const diagnostics = built.ok ? [] : built.diagnostics;
      const output = formatDiagnostics(options.format, diagnostics);
      if (output !== "") process.stdout.write(`${output}\n`);
      if (built.ok && options.format === "text") {
        const counts = built.snapshot.documentCounts;
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        process.stdout.write(`ok: ${total} documents in ${built.snapshot.files.length} files\n`);
      } else if (!built.ok && options.format === "text") {
        process.stderr.write(`${diagnostics.length} problem(s)\n`);
      }
      process.exitCode = built.ok ? 0 : 1;
    });
}
