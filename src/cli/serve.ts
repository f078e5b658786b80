import { Command } from "commander";
import { createLogger } from "../log.js";
import { readSettings } from "../settings.js";
import { ConfigError, errorMessage } from "../errors.js";
import { formatText } from "../config/format/text.js";

/**
 * npm start's node flags (package.json), which README § Performance explains: a 32 MB young
 * generation from the start, the garbage collector's work kept on the event loop's thread, V8's
 * other helper threads sized to the cores the process may use, and no allocation-site pretenuring.
 */
export const SERVE_NODE_FLAGS = [
  "--max-semi-space-size=32",
  "--min-semi-space-size=32",
  "--single-threaded-gc",
  "--v8-pool-size=0",
  "--no-allocation-site-pretenuring",
] as const;

/**
 * Whether node was given every flag (any values), on its command line or in NODE_OPTIONS (where
 * node refuses --min-semi-space-size, --single-threaded-gc and --no-allocation-site-pretenuring,
 * so those can only come from the command line).
 */
function tunedForServing(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].map((flag) => flag.split("=")[0]);
  return SERVE_NODE_FLAGS.every((flag) => given.includes(flag.split("=")[0]));
}

export function serveCommand(): Command {
  return new Command("serve")
    .description("run the runtime: serve the endpoints of the config in INLET_DIR and run its workflows")
    .action(async () => {
      const settings = readSettings(process.env);
      const logger = createLogger({ level: settings.logLevel });
      // Before the start, so that it is logged before "inlet listening".
      if (!tunedForServing(process.execArgv, process.env["NODE_OPTIONS"])) {
        logger.info(
          { nodeFlags: SERVE_NODE_FLAGS.join(" ") },
          "starting without the V8 flags that npm start passes: start with npm start, or give node these flags before dist/src/main.js, for the latency README § Performance measures",
        );
      }
      let runtime;
      try {
        // Loaded here: loading the runtime's dependencies (express, BullMQ, SQLite) would cost
        // every other command, such as `inlet validate` in CI, a few tenths of a second.
        const { startRuntime } = await import("../runtime.js");
        runtime = await startRuntime({ settings, env: process.env, logger });
      } catch (error) {
        if (error instanceof ConfigError) {
          process.stderr.write(
            `inlet: refusing to start, the config is invalid:\n${formatText(error.diagnostics)}\n`,
          );
        } else {
          process.stderr.write(`inlet: cannot start: ${errorMessage(error)}\n`);
        }
        logger.flush();
        process.exitCode = 1;
        return;
      }
      const started = runtime;
      process.on("SIGHUP", () => {
        // reload() logs its own outcome; a signal handler has nobody else to report to.
        void started.reloader.reload("SIGHUP");
      });
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "shutting down");
        started
          .shutdown()
          .then(() => {
            logger.info("stopped");
            logger.flush();
            process.exit(0);
          })
          .catch((error: unknown) => {
            logger.error({ err: error }, "shutdown failed");
            logger.flush();
            process.exit(1);
          });
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
}
