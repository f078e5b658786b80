import type { Logger } from "pino";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import type { Metrics } from "../metrics.js";
import type { HttpTransport } from "../nodes/node-type.js";
import type { NodeRecord, RunRef, Store } from "../store/store.js";
import type { CompiledWorkflow } from "./compile-workflow.js";
import { executeRun } from "./execute-run.js";

/**
 * Executes one recorded run against the current config: loads its event, marks it running,
 * walks the workflow (reusing nodes a previous attempt finished), and records the outcome.
 * An interrupted run (shutdown) is left running, so the next start resumes it.
 * Resolves to what happened, so a queue can hand an interrupted run back.
 *
 * Node records are written behind the walk: each joins the store's next commit without holding
 * the walk for one of its own, so the last node's record and the finish commit together (a
 * commit's cost is mostly the pages it appends, and these share the run's). Nothing is weaker for
 * it: a node recorded running is run again on resume either way, and a succeeded one is recorded
 * by the end of the turn its answer arrived in. The run resolves once the finish and every record
 * are written (finishedWithRecords), and rejects if the finish failed.
 */
export async function executeStoredRun(
  ref: RunRef,
  deps: {
    store: Store;
    holder: SnapshotHolder;
    http: HttpTransport;
    env: Readonly<Record<string, string | undefined>>;
    logger: Logger;
    metrics: Metrics;
    signal: AbortSignal;
  },
): Promise<"finished" | "interrupted"> {
  const { store } = deps;
  const record = await store.startRun(ref.runId, new Date().toISOString());
  if (!record || record.status === "succeeded" || record.status === "failed") return "finished";
  const workflow = deps.holder.current.workflows.get(ref.workflow);
  const event = await store.getEvent(ref.eventId);
  if (!workflow?.enabled || !event) {
    const error = unrunnable(ref, workflow);
    await store.finishRun(ref.runId, { status: "failed", finishedAt: new Date().toISOString(), error });
    deps.metrics.runs.inc({ workflow: ref.workflow, status: "failed" });
    return "finished";
  }
  const records: Array<{ readonly node: NodeRecord; readonly written: Promise<void> }> = [];
  const result = await executeRun({
    workflow,
    event,
    runId: ref.runId,
    http: deps.http,
    env: deps.env,
    signal: deps.signal,
    previous: record.nodes,
    onNode: async (node) => {
      const written = store.recordNode(ref.runId, node);
      // Handled here so a failure is not reported as unhandled before the run awaits it below.
      written.catch(() => undefined);
      records.push({ node, written });
      if (node.status !== "running") {
        deps.metrics.nodeDuration.observe(
          { workflow: workflow.id, type: node.type, status: node.status },
          (node.durationMs ?? 0) / 1000,
        );
      }
    },
  });
  if (result.status === "interrupted") {
    await Promise.all(records.map(({ written }) => written));
    return "interrupted";
  }
  const finished = store.finishRun(ref.runId, {
    status: result.status,
    finishedAt: new Date().toISOString(),
    error: result.error,
  });
  await finishedWithRecords(store, ref.runId, finished, records);
  deps.metrics.runs.inc({ workflow: workflow.id, status: result.status });
  const log =
    result.status === "failed" ? deps.logger.warn.bind(deps.logger) : deps.logger.debug.bind(deps.logger);
  log(
    { runId: ref.runId, workflow: workflow.id, eventId: event.eventId, error: result.error },
    `run ${result.status}`,
  );
  return "finished";
}

/**
 * Why a run cannot execute, when its workflow or event is missing. A disabled workflow (SPEC 9.2
 * runs only enabled ones) fails its queued and resumed runs too: disabling is how an operator
 * stops a workflow sending, and a failed run can be retried once it is enabled again.
 */
function unrunnable(ref: RunRef, workflow: CompiledWorkflow | undefined): string {
  if (!workflow) return `workflow "${ref.workflow}" no longer exists`;
  if (!workflow.enabled) return `workflow "${ref.workflow}" is disabled`;
  return `event ${ref.eventId} is no longer stored`;
}

/**
 * Waits for the finish and every node record. A record that failed in an earlier commit than the
 * finish's (the store refused one write, then came back) would leave the finished run showing the
 * node as it was before (running, say), so a node's last record is written again if it failed.
 * Rejects if the finish failed (the run, unfinished in the store, runs again) or a record still
 * cannot be written.
 */
async function finishedWithRecords(
  store: Store,
  runId: string,
  finished: Promise<void>,
  records: ReadonlyArray<{ readonly node: NodeRecord; readonly written: Promise<void> }>,
): Promise<void> {
  const [finish, ...written] = await Promise.allSettled([
    finished,
    ...records.map((record) => record.written),
  ]);
  if (finish?.status === "rejected") throw finish.reason;
  if (!written.some((outcome) => outcome.status === "rejected")) return;
  // A node's last record is what the run shows of it: an earlier one (running) must not replace it.
  const last = new Map(records.map(({ node }, index) => [node.id, index]));
  for (const [index, { node }] of records.entries()) {
    if (last.get(node.id) === index && written[index]?.status === "rejected")
      await store.recordNode(runId, node);
  }
}
