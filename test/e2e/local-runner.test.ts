import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createConfigLoader } from "../../src/config/load.js";
import { SnapshotHolder } from "../../src/config/snapshot-holder.js";
import { buildSnapshot } from "../../src/config/snapshot.js";
import type { Runner } from "../../src/engine/dispatcher.js";
import { createLocalRunner } from "../../src/engine/local-runner.js";
import { createMetrics } from "../../src/metrics.js";
import { createHttpTransport } from "../../src/nodes/http-transport.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { openStore } from "../../src/store/open-store.js";
import type { NodeRecord, RunRef, Store } from "../../src/store/store.js";
import { eventually } from "../helpers/eventually.js";
import { startSink, type Sink, type SinkAnswer } from "../helpers/sink.js";
import { memoryLogger } from "../helpers/start-server.js";
import { orderEvent, type TempProject } from "../helpers/temp-project.js";
import { API_TOKEN, forwardProject } from "./support.js";
import { IngressLoad } from "../../src/engine/run-throttle.js";

let sink: Sink | undefined;
let project: TempProject | undefined;
let store: Store | undefined;

afterEach(async () => {
  await store?.close();
  await sink?.close();
  project?.cleanup();
});

/** A local runner on `forwardProject`'s snapshot; `store` is also kept for afterEach to close. */
async function startRunner(
  to: Sink,
  kind: "memory" | "sqlite",
  tuning: { concurrency: number; queueMax?: number },
  seenByRunner: (opened: Store) => Store = (opened) => opened,
): Promise<{ runner: Runner; store: Store }> {
  project = await forwardProject(to, { attempts: 1, timeout: "5s" });
  const env = Object.freeze({ API_TOKEN });
  const loaded = await createConfigLoader(builtinRegistry).load(project.dir);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const built = buildSnapshot(loaded.config, { env, jwtKey: null, requireSecrets: true });
  if (!built.ok) throw new Error(JSON.stringify(built.diagnostics));
  const opened = await openStore(
    kind === "memory" ? "memory:" : `sqlite:${path.join(project.dir, "runs.db")}`,
  );
  store = opened;
  const runner = createLocalRunner({
    store: seenByRunner(opened),
    load: new IngressLoad(),
    holder: new SnapshotHolder(built.snapshot),
    http: createHttpTransport({ denyPrivate: false }),
    env,
    logger: memoryLogger().logger,
    metrics: createMetrics({ defaultMetrics: false }),
    ...tuning,
  });
  return { runner, store: opened };
}

/** Records order `o-<i>` (event id number i) for the forward workflow, as the ingress would; returns its runs. */
async function acceptOrder(to: Store, i: number): Promise<readonly RunRef[]> {
  const event = orderEvent(`00000000-0000-7000-8000-${String(i).padStart(12, "0")}`, `o-${i}`);
  const accepted = await to.accept({ event, dedup: null, workflows: ["forward"] });
  if (accepted.outcome !== "accepted") throw new Error("the event was not accepted");
  return accepted.runs;
}

/** The store, except that its first `times` finishRun calls fail, as a full disk would fail them. */
function failingFinishes(times: number): (opened: Store) => Store {
  let left = times;
  return (opened) =>
    new Proxy(opened, {
      get(target, key) {
        if (key === "finishRun" && left > 0) {
          return async () => {
            left -= 1;
            throw new Error("database or disk is full");
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
}

/** The store, except that its first record of a node's result fails, as a store that went away for a moment would. */
function failingFirstResult(): (opened: Store) => Store {
  let failed = false;
  return (opened) =>
    new Proxy(opened, {
      get(target, key) {
        if (key === "recordNode") {
          return async (runId: string, node: NodeRecord) => {
            if (node.status !== "running" && !failed) {
              failed = true;
              throw new Error("database is locked");
            }
            return target.recordNode(runId, node);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
}

/** Makes the sink hold every request until the returned function is called, then give `answer`. */
function holdRequests(to: Sink, answer: SinkAnswer): () => void {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  to.respond(async () => {
    await held;
    return answer;
  });
  return release;
}

describe("the in-process runner", () => {
  // A request accepted between the server starting to listen and the resume at start is both
  // dispatched and found unfinished: it must still run once, not twice side by side.
  it("runs a recorded run once when it is dispatched and also found by resumeUnfinished while it runs", async () => {
    sink = await startSink();
    const release = holdRequests(sink, { status: 200, body: { ok: true } });
    const { runner, store: opened } = await startRunner(sink, "memory", { concurrency: 10 });
    const runs = await acceptOrder(opened, 1);

    await runner.dispatch(runs);
    await eventually(() => expect(sink?.calls).toHaveLength(1));
    expect(await runner.resumeUnfinished()).toBe(1);
    release();

    const runId = runs[0]?.runId ?? "";
    await eventually(async () => expect((await opened.getRun(runId))?.status).toBe("succeeded"));
    await runner.stop(1000);
    expect(sink.calls).toHaveLength(1);
  });

  // Node records are written behind the walk (run-stored.ts): they must still show a node in flight
  // as running, and land with the finish once its answer arrives.
  it("shows a node running while its request is out, and its result with the finished run", async () => {
    sink = await startSink();
    const release = holdRequests(sink, { status: 201, body: { received: true } });
    const { runner, store: opened } = await startRunner(sink, "sqlite", { concurrency: 1 });
    const runs = await acceptOrder(opened, 1);
    const runId = runs[0]?.runId ?? "";

    await runner.dispatch(runs);
    await eventually(() => expect(sink?.calls).toHaveLength(1));
    const inFlight = await opened.getRun(runId);
    expect(inFlight?.status).toBe("running");
    expect(inFlight?.nodes.map((node) => [node.id, node.status])).toEqual([["send", "running"]]);

    release();
    await eventually(async () => expect((await opened.getRun(runId))?.status).toBe("succeeded"));
    await runner.stop(1000);
    const done = await opened.getRun(runId);
    expect(done?.nodes).toMatchObject([
      {
        id: "send",
        status: "succeeded",
        attempts: 1,
        output: { response: { status: 201, body: { received: true } } },
      },
    ]);
  });

  it.each(["sqlite", "memory"] as const)(
    "records a node's result at the finish when its own write failed before (%s store)",
    async (kind) => {
      sink = await startSink();
      const { runner, store: opened } = await startRunner(
        sink,
        kind,
        { concurrency: 1 },
        failingFirstResult(),
      );
      const runs = await acceptOrder(opened, 1);
      const runId = runs[0]?.runId ?? "";
      await runner.dispatch(runs);
      await eventually(async () => expect((await opened.getRun(runId))?.status).toBe("succeeded"));
      await eventually(async () =>
        expect((await opened.getRun(runId))?.nodes).toMatchObject([{ id: "send", status: "succeeded" }]),
      );
      await runner.stop(1000);
      expect(sink.calls).toHaveLength(1);
    },
  );

  // Past its memory queue the runner leaves runs in the store and reads them back page by page;
  // a page that exactly fills the queue must still lead to the next one.
  it("delivers every run of a backlog larger than its memory queue, each once", async () => {
    sink = await startSink();
    const { runner, store: opened } = await startRunner(sink, "sqlite", { concurrency: 2, queueMax: 3 });
    const runIds: string[] = [];
    for (let i = 0; i < 25; i += 1) {
      const runs = await acceptOrder(opened, i);
      runIds.push(...runs.map((run) => run.runId));
      await runner.dispatch(runs);
    }
    await eventually(async () => expect(await opened.listUnfinishedRuns()).toEqual([]), {
      timeoutMs: 10_000,
    });
    await runner.stop(1000);
    expect(sink.calls).toHaveLength(25);
    const statuses = await Promise.all(runIds.map(async (runId) => (await opened.getRun(runId))?.status));
    expect(statuses.every((status) => status === "succeeded")).toBe(true);
  });

  // A request accepted as the server starts (before the resume) must not overtake the runs a
  // previous process left: the store hands them back first.
  it("starts the runs a previous process left before one dispatched at start", async () => {
    sink = await startSink();
    const { runner, store: opened } = await startRunner(sink, "sqlite", { concurrency: 1 });
    const accept = (i: number) => acceptOrder(opened, i);
    for (const i of [1, 2, 3]) await accept(i);
    await runner.dispatch(await accept(4));
    await runner.resumeUnfinished();

    await eventually(() => expect(sink?.calls).toHaveLength(4), { timeoutMs: 10_000 });
    await runner.stop(1000);
    const order = sink.calls.map((call) => (JSON.parse(call.body) as { id: string }).id);
    expect(order).toEqual(["o-1", "o-2", "o-3", "o-4"]);
  });

  // Runs dispatched while the store is read are queued after what it returns, not left in the
  // store for yet another read: once the backlog is read, dispatching needs no store read at all.
  it("queues runs dispatched during a read of the store without reading it again", async () => {
    sink = await startSink();
    const { runner, store: opened } = await startRunner(sink, "sqlite", { concurrency: 2 });
    let reads = 0;
    const list = opened.listUnfinishedRuns.bind(opened);
    opened.listUnfinishedRuns = (limit) => {
      reads += 1;
      return list(limit);
    };
    const accept = (i: number) => acceptOrder(opened, i);
    const first = await accept(0);
    const resumed = runner.resumeUnfinished();
    await runner.dispatch(first);
    for (let i = 1; i < 10; i += 1) await runner.dispatch(await accept(i));
    await resumed;

    await eventually(() => expect(sink?.calls).toHaveLength(10), { timeoutMs: 10_000 });
    await runner.stop(1000);
    expect(reads).toBe(1);
  });

  // Such a run had stayed `running` until the process restarted; a run dispatched meanwhile must run too.
  it("runs a run again, without a restart, when the store failed to record its finish", async () => {
    sink = await startSink();
    const { runner, store: opened } = await startRunner(
      sink,
      "sqlite",
      { concurrency: 10 },
      failingFinishes(1),
    );
    const [first] = await acceptOrder(opened, 1);
    await runner.dispatch(first ? [first] : []);
    await eventually(() => expect(sink?.calls).toHaveLength(1));
    expect((await opened.getRun(first?.runId ?? ""))?.status).not.toBe("succeeded");
    const [second] = await acceptOrder(opened, 2);
    await runner.dispatch(second ? [second] : []);

    for (const ref of [first, second]) {
      await eventually(async () => expect((await opened.getRun(ref?.runId ?? ""))?.status).toBe("succeeded"));
    }
    await runner.stop(1000);
    // The retry reuses the node whose success was recorded: the order went out once.
    expect(sink.calls.map((call) => (JSON.parse(call.body) as { id: string }).id)).toEqual(["o-1", "o-2"]);
  });

  // A run dispatched while older ones wait in the store (the memory queue was full) must not
  // overtake them: it waits there too, and the store hands them all back in accept order.
  it("starts runs in accept order when its memory queue overflowed", async () => {
    sink = await startSink();
    const held: Array<() => void> = [];
    let holding = true;
    sink.respond(async () => {
      if (holding) await new Promise<void>((resolve) => held.push(resolve));
      return { status: 200, body: { ok: true } };
    });
    const { runner, store: opened } = await startRunner(sink, "sqlite", { concurrency: 1, queueMax: 2 });
    const post = async (i: number): Promise<void> => runner.dispatch(await acceptOrder(opened, i));
    await post(1);
    await eventually(() => expect(sink?.calls).toHaveLength(1));
    // o-2 and o-3 fill the queue; o-4 and o-5 wait in the store.
    for (const i of [2, 3, 4, 5]) await post(i);
    held.shift()?.();
    await eventually(() => expect(sink?.calls).toHaveLength(2));
    // The queue has room again, but o-4 and o-5 are older than o-6.
    await post(6);
    holding = false;
    for (const release of held.splice(0)) release();

    await eventually(() => expect(sink?.calls).toHaveLength(6), { timeoutMs: 10_000 });
    await runner.stop(1000);
    const order = sink.calls.map((call) => (JSON.parse(call.body) as { id: string }).id);
    expect(order).toEqual(["o-1", "o-2", "o-3", "o-4", "o-5", "o-6"]);
  });
});
