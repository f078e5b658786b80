import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/** A server that has not exited this long after SIGTERM is killed, so a failing run still ends. */
const STOP_TIMEOUT_MS = 30_000;

/** Pins to one core with taskset when it exists, so load generator and server do not share a core. */
export const TASKSET = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

/** Clock ticks per second of /proc/<pid>/stat's CPU times; null where there is no getconf. */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || null;

/** CPU seconds (user + system) a process has used so far; null where /proc cannot tell. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined || CLOCK_TICKS === null) return null;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export interface Child {
  readonly process: ChildProcess;
  readonly port: number;
  /** SIGSTOP: a paused server uses no CPU, so what it has queued cannot take the core from another. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  stop(): Promise<void>;
}

/** Starts `node <script> …args` (pinned to `core`) and resolves when it prints its port. */
export function startChild(options: {
  script: string;
  /** Node's own flags, before the script. */
  nodeArgs?: readonly string[];
  args?: readonly string[];
  env?: Record<string, string>;
  core: number;
  timeoutMs?: number;
}): Promise<Child> {
  const command = TASKSET ? "taskset" : process.execPath;
  const nodeAndScript = [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])];
  const args = TASKSET ? ["-c", String(options.core), process.execPath, ...nodeAndScript] : nodeAndScript;
  const child = spawn(command, args, {
    env: { ...process.env, PORT: "0", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${options.script} did not start:\n${output}`));
    }, options.timeoutMs ?? 120_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /"port":(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stdout.resume();
      child.stderr.resume();
      resolve({
        process: child,
        port: Number(match[1]),
        pause: () => child.kill("SIGSTOP"),
        resume: () => child.kill("SIGCONT"),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            const kill = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
            child.once("exit", () => {
              clearTimeout(kill);
              done();
            });
            // A paused process would hold the SIGTERM until it is resumed.
            child.kill("SIGCONT");
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.script} exited with ${code}:\n${output}`));
    });
  });
}

/** CPU share of one core below which a server counts as idle: its timers, not its work. */
const IDLE_CPU_SHARE = 0.05;
/**
 * Long enough that the share is more than one tick of /proc's CPU clock (10 ms); short, because
 * every window of the bench ends with a wait for idle, and each wait ends with one idle sample.
 */
export const IDLE_SAMPLE_MS = 250;

/**
 * Waits until `child` has been idle for IDLE_SAMPLE_MS (what it queued, such as runs, is done),
 * and answers how long it stayed busy before that, to that step; fails after `timeoutMs`.
 */
export async function untilIdle(child: Child, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const sampleStart = Date.now();
    const before = cpuSeconds(child.process.pid);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
    const after = cpuSeconds(child.process.pid);
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`the server exited while the bench waited for it to settle`);
    }
    // Without /proc there is no telling: one sample's wait is all the settling it gets.
    if (before === null || after === null) return (sampleStart - started) / 1000;
    if (after - before <= (IDLE_CPU_SHARE * IDLE_SAMPLE_MS) / 1000) return (sampleStart - started) / 1000;
    if (Date.now() - started > timeoutMs) throw new Error(`the server was still busy after ${timeoutMs} ms`);
  }
}

/** Resumes `active` and pauses every other server, so only it has the core. */
export function runOnly(active: Child, servers: Iterable<Child>): void {
  for (const server of servers) {
    if (server === active) server.resume();
    else server.pause();
  }
}

/** The median of one or more measurements. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
