import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { startRuntime, type Runtime } from "../../src/runtime.js";
import { readSettings } from "../../src/settings.js";

/** Collects log lines in memory, so tests can assert what was logged (and what never was). */
export function memoryLogger(): { logger: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: pino({ level: "debug" }, stream),
    lines: () => chunks.join("").split("\n").filter(Boolean),
  };
}

export interface TestServer extends Runtime {
  readonly url: string;
  readonly logs: () => string[];
}

/** The real runtime on a loopback port, configured through the same environment users set. */
export async function startServer(
  env: Record<string, string>,
  options: { sampleTrimGraceMs?: number } = {},
): Promise<TestServer> {
  const fullEnv = { INLET_STORE: "memory:", INLET_WATCH: "false", ...env, PORT: "0" };
  const { logger, lines } = memoryLogger();
  const runtime = await startRuntime({
    settings: readSettings(fullEnv),
    env: fullEnv,
    logger,
    shutdownGraceMs: 1000,
    sampleTrimGraceMs: options.sampleTrimGraceMs,
  });
  return Object.assign(runtime, { url: `http://127.0.0.1:${runtime.port}`, logs: lines });
}
