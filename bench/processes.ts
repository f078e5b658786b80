import { spawn, spawnSync, type ChildProcess } from "node:child_process";

/** Pins to one core with taskset when it exists, so load generator and server do not share a core. */
export const TASKSET = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

export interface Child {
  readonly process: ChildProcess;
  readonly port: number;
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
        stop: () =>
          new Promise((done) => {
            child.once("exit", () => done());
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
