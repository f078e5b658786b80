#!/usr/bin/env node
// No node flags here: `env -S` is GNU and BSD only, and BusyBox's env (Alpine images) refused the
// whole command. `inlet serve` says in its log when it runs without the flags npm start passes.
import { Command } from "commander";
import { apiKeyCommand } from "./cli/apikey.js";
import { flattenCommand } from "./cli/flatten.js";
import { newCommand } from "./cli/new.js";
import { runsCommand } from "./cli/runs.js";
import { samplesCommand } from "./cli/samples.js";
import { serveCommand } from "./cli/serve.js";
import { testCommand } from "./cli/test.js";
import { tokenCommand } from "./cli/token.js";
import { validateCommand } from "./cli/validate.js";
import { InletError, errorMessage } from "./errors.js";

/**
 * A first argument that could name a command: no option ("-"), no path ("." or a separator).
 * Commander hands the default command every first word it does not know, and serve, which takes
 * no arguments, would refuse a mistyped `inlet vaildate` as "too many arguments for 'serve'".
 */
const COMMAND_WORD = /^[a-z0-9][\w-]*$/i;
const [firstArgument] = process.argv.slice(2);
// Serve stays the default for plain `inlet`, an option or a path; for a word, commander finds the
// command or says "unknown command 'vaildate'" with its "(Did you mean validate?)".
const serveIsDefault = firstArgument === undefined || !COMMAND_WORD.test(firstArgument);

const program = new Command("inlet")
  .description("Declarative webhook-and-workflow runtime")
  .addCommand(serveCommand(), { isDefault: serveIsDefault })
  .addCommand(validateCommand())
  .addCommand(testCommand())
  .addCommand(newCommand())
  .addCommand(apiKeyCommand())
  .addCommand(tokenCommand())
  .addCommand(flattenCommand())
  .addCommand(samplesCommand())
  .addCommand(runsCommand());

// A reader that stops early (`inlet flatten big.json | head`) is not an error of inlet's.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(0);
});

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`inlet: ${errorMessage(error)}\n`);
  if (!(error instanceof InletError)) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
  process.exitCode = error instanceof InletError && error.code === "config-invalid" ? 1 : 2;
});
