import { Command } from "commander";
import { createConfigLoader } from "../config/load.js";
import { formatText } from "../config/format/text.js";
import { builtinRegistry } from "../nodes/registry.js";
import { formatTestReport, runWorkflowTests } from "../workflow-tests/run-tests.js";
import { configDir } from "./config-dir.js";

export function testCommand(): Command {
  return new Command("test")
    .description("run the WorkflowTest documents offline, outgoing calls answered by canned responses")
    .argument("[dir]", "folder holding integrations/ and workflows/ (default: INLET_DIR or .)")
    .action(async (dir: string | undefined) => {
      const loaded = await createConfigLoader(builtinRegistry).load(configDir(dir));
      if (!loaded.ok) {
        process.stderr.write(
          `${formatText(loaded.diagnostics)}\nthe config is invalid; fix it before testing\n`,
        );
        process.exitCode = 1;
        return;
      }
      const report = await runWorkflowTests({
        workflows: loaded.config.workflows,
        tests: loaded.config.set.tests.map(({ doc, source }) => ({ file: source.file, doc })),
      });
      process.stdout.write(`${formatTestReport(report)}\n`);
      process.exitCode = report.failed > 0 ? 1 : 0;
    });
}
