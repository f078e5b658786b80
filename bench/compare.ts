import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { SERVE_NODE_FLAGS } from "../src/cli/serve.js";
import { BODY, endpointOf, ID_SLOT, writeBenchConfig } from "./fixtures.js";
import { pacedLoad } from "./paced.js";
import { cpuSeconds, median, runOnly, startChild, untilIdle, type Child } from "./processes.js";

/**
 * `npm run bench:compare`: builds of Inlet side by side, for a change too small for `npm run bench`
 * to tell from a shared machine's noise. Rounds alternate the servers (each window with the others
 * paused), and each round's ratios to the first build are taken within the round, so a
 * neighbour's load weighs on both sides of a ratio; the medians of those ratios are the result.
 *
 *   npm run build && npm run bench:compare -- --save before    # copies dist/ to .bench-builds/before
 *   (change the code)
 *   npm run build && npm run bench:compare -- --save after
 *   npm run bench:compare -- before after [raw]                 # saturation: req/s, CPU, the runs' drain
 *   BENCH_MODE=fixed npm run bench:compare -- before after      # 1,000 req/s: p50, p99, CPU with the run
 *
 * BENCH_ROUNDS (default 5), BENCH_SECONDS (default 4); BENCH_NODE_FLAGS replaces npm start's
 * node flags for every build. A build named `before@10000` loads 10,000 integrations, each with its
 * workflow, and measures the first (the bench's large-config row); plain `before` loads one.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, "../..");
const BUILDS = path.join(ROOT, ".bench-builds");
const CONNECTIONS = 50;
const FIXED_RATE = 1000;
const WARMUP_S = 2;
const DRAIN_TIMEOUT_MS = 180_000;
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 4);
const FIXED = process.env["BENCH_MODE"] === "fixed";
const NODE_FLAGS = process.env["BENCH_NODE_FLAGS"]?.split(" ").filter(Boolean) ?? SERVE_NODE_FLAGS;

let sequence = 0;
const numbered = (): string => BODY.replaceAll(ID_SLOT, `${process.pid}-${(sequence += 1)}`);

interface Server {
  readonly label: string;
  readonly child: Child;
  readonly url: string;
  /** Raw node:http: no runs to wait for. */
  readonly raw: boolean;
  /** Its config and database, removed when it stops. */
  readonly work?: string;
}

/** One window on one server; `figures` are what the medians and ratios are taken of. */
type Figures = Record<string, number>;

/** Copies the current build (dist/) to .bench-builds/<name>, beside a link to this checkout's node_modules. */
function save(name: string): void {
  const target = path.join(BUILDS, name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(path.join(ROOT, "dist"), path.join(target, "dist"), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(target, "node_modules"));
  process.stdout.write(`saved dist/ as ${target}\n`);
}

async function start(label: string, sinkUrl: string): Promise<Server> {
  if (label === "raw") {
    const child = await startChild({ script: path.join(here, "raw-server.js"), core: 1 });
    return { label, child, url: `http://127.0.0.1:${child.port}/`, raw: true };
  }
  const [build = label, suffix = "1"] = label.split("@");
  const integrations = Number(suffix);
  if (!Number.isInteger(integrations) || integrations < 1)
    throw new Error(`${label}: after @ goes a count of integrations`);
  const main = path.join(BUILDS, build, "dist/src/main.js");
  if (!existsSync(main)) throw new Error(`no build named ${build}: save one with --save ${build}`);
  const work = mkdtempSync(path.join(os.tmpdir(), `inlet-compare-${build}-`));
  writeBenchConfig(work, { count: integrations, withWorkflows: true });
  const child = await startChild({
    script: main,
    nodeArgs: NODE_FLAGS,
    args: ["serve"],
    core: 1,
    env: {
      LOG_LEVEL: "info",
      INLET_WATCH: "false",
      INLET_DIR: work,
      INLET_STORE: `sqlite:${path.join(work, "inlet.db")}`,
      SINK_URL: sinkUrl,
    },
  });
  return {
    label,
    child,
    url: `http://127.0.0.1:${child.port}/v1/incoming/${endpointOf(0)}`,
    raw: false,
    work,
  };
}

/** Saturation: requests a second, server CPU a request, then the CPU and time its queued runs take. */
async function saturate(server: Server, seconds: number): Promise<Figures> {
  const before = cpuSeconds(server.child.process.pid) ?? 0;
  const result = await autocannon({
    url: server.url,
    method: "POST",
    connections: CONNECTIONS,
    duration: seconds,
    headers: { "content-type": "application/json" },
    requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, body: numbered() }) }],
  });
  const loaded = cpuSeconds(server.child.process.pid) ?? 0;
  const requests = result.requests.total;
  const figures: Figures = {
    "req/s": result.requests.average,
    "CPU µs/req": ((loaded - before) * 1e6) / requests,
  };
  if (!server.raw) {
    const busy = await untilIdle(server.child, DRAIN_TIMEOUT_MS);
    const drained = cpuSeconds(server.child.process.pid) ?? 0;
    figures["drain CPU µs/run"] = ((drained - loaded) * 1e6) / requests;
    figures["drain runs/s"] = busy > 0 ? requests / busy : Number.NaN;
  }
  return figures;
}

/** FIXED_RATE requests a second: latency, and the CPU a request costs with its run (until idle again). */
async function atFixedRate(server: Server, seconds: number): Promise<Figures> {
  const before = cpuSeconds(server.child.process.pid) ?? 0;
  const result = await pacedLoad({
    url: server.url,
    rate: FIXED_RATE,
    durationS: seconds,
    headers: { "content-type": "application/json" },
    body: numbered,
  });
  if (!server.raw) await untilIdle(server.child, DRAIN_TIMEOUT_MS);
  const cpu = (cpuSeconds(server.child.process.pid) ?? 0) - before;
  return {
    "p50 ms": result.p50,
    "p99 ms": result.p99,
    "CPU µs/req": (cpu * 1e6) / (FIXED_RATE * seconds),
  };
}

function format(value: number): string {
  return Number.isNaN(value) ? "n/a" : value.toFixed(value < 10 ? 2 : 0);
}

function formatRatio(value: number): string {
  return Number.isNaN(value) ? "n/a" : value.toFixed(3);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--save") {
    if (!args[1]) throw new Error("--save needs a name");
    save(args[1]);
    return;
  }
  if (args.length < 2) throw new Error("name two builds or more (saved with --save), or a build and raw");
  const sink = await startChild({ script: path.join(here, "sink.js"), core: 0 });
  const servers: Server[] = [];
  try {
    for (const label of args) servers.push(await start(label, `http://127.0.0.1:${sink.port}/events`));
    const measure = FIXED ? atFixedRate : saturate;
    const only = (active: Server): void =>
      runOnly(
        active.child,
        servers.map((server) => server.child),
      );
    for (const server of servers) {
      only(server);
      await measure(server, WARMUP_S);
    }
    const windows = new Map<string, Figures[]>(servers.map((server) => [server.label, []]));
    const ratios = new Map<string, Figures[]>(servers.slice(1).map((server) => [server.label, []]));
    const first = servers[0]!;
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const server of servers) {
        only(server);
        const figures = await measure(server, SECONDS);
        windows.get(server.label)!.push(figures);
        const shown = Object.entries(figures).map(([name, value]) => `${name} ${format(value)}`);
        process.stdout.write(`round ${round} ${server.label}: ${shown.join(", ")}\n`);
      }
      const base = windows.get(first.label)!.at(-1)!;
      for (const server of servers.slice(1)) {
        const figures = windows.get(server.label)!.at(-1)!;
        ratios
          .get(server.label)!
          .push(
            Object.fromEntries(
              Object.entries(figures).map(([name, value]) => [name, value / (base[name] ?? NaN)]),
            ),
          );
      }
    }
    const names = Object.keys(windows.get(first.label)![0]!);
    const lines = [
      `| build | ${names.join(" | ")} |`,
      `| --- | ${names.map(() => "---:").join(" | ")} |`,
      ...servers.map((server) => {
        const all = windows.get(server.label)!;
        return `| ${server.label} | ${names.map((name) => format(median(all.map((figures) => figures[name] ?? NaN)))).join(" | ")} |`;
      }),
      ...servers.slice(1).map((server) => {
        const all = ratios.get(server.label)!;
        return `| ${server.label} ÷ ${first.label} (median of the rounds' ratios) | ${names.map((name) => formatRatio(median(all.map((figures) => figures[name] ?? NaN)))).join(" | ")} |`;
      }),
    ];
    process.stdout.write(
      `\n${FIXED ? `${FIXED_RATE} req/s` : `saturation, ${CONNECTIONS} connections`}, ${ROUNDS} rounds of ${SECONDS} s, servers alternating on core 1 (node ${NODE_FLAGS.join(" ")}):\n\n${lines.join("\n")}\n`,
    );
  } finally {
    for (const server of servers) {
      await server.child.stop();
      if (server.work) rmSync(server.work, { recursive: true, force: true });
    }
    await sink.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
