import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { startSink, type Sink } from "../helpers/sink.js";
import type { TempProject } from "../helpers/temp-project.js";
import {
  ADMIN_TOKEN,
  API_TOKEN,
  eventLedger,
  forwardProject,
  killProcess,
  listRuns,
  postEvent,
  serveProcess,
  type Served,
} from "./support.js";

const EVENTS = 20;

let sink: Sink | undefined;
let project: TempProject | undefined;
const processes: Served[] = [];

afterEach(async () => {
  await Promise.all(processes.splice(0).map(killProcess));
  await sink?.close();
  project?.cleanup();
});

describe("a process killed with SIGKILL", () => {
  it("delivers, after a restart on the same sqlite file, every event it answered 200 for while the receiver was down", async () => {
    sink = await startSink();
    const ledger = eventLedger(sink, { failing: true });
    project = await forwardProject(sink, { attempts: 10, timeout: "2s" });
    const env = {
      INLET_DIR: project.dir,
      INLET_STORE: `sqlite:${path.join(project.dir, "data", "inlet.db")}`,
      INLET_ADMIN_TOKEN: ADMIN_TOKEN,
      API_TOKEN,
    };
    const first = await serveProcess(env);
    processes.push(first);

    const answers = await Promise.all(
      Array.from({ length: EVENTS }, (_, i) => postEvent(first.url, { id: `order-${i}` })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(EVENTS).fill(200));
    // Every 200 came back while the receiver had taken nothing: the answer does not wait for runs.
    expect(ledger.delivered.size).toBe(0);
    const accepted = new Set(answers.map((answer) => answer.eventId ?? ""));
    expect(accepted.size).toBe(EVENTS);

    // Runs are in progress (calling the failing receiver) when the process dies.
    await eventually(() => expect(ledger.attempted.size).toBeGreaterThan(0));
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(ledger.delivered.size).toBe(0);

    ledger.setFailing(false);
    const second = await serveProcess(env);
    processes.push(second);
    expect(second.output()).toContain(`"resumedRuns":${EVENTS}`);

    await eventually(() => expect(ledger.delivered).toEqual(accepted), { timeoutMs: 20_000 });
    // One run per event, resumed rather than duplicated, each recorded as succeeded.
    await eventually(async () => {
      const runs = await listRuns(second.url, `?workflow=forward&limit=${EVENTS * 2}`);
      expect(runs).toHaveLength(EVENTS);
      expect(new Set(runs.map((run) => run.eventId))).toEqual(accepted);
      expect(runs.map((run) => run.status)).toEqual(Array(EVENTS).fill("succeeded"));
    });
  }, 60_000);
});
