import { setTimeout as delay } from "node:timers/promises";
import { OUTGOING_BACKOFF_BASE_MS, OUTGOING_BACKOFF_MAX_MS } from "../defaults.js";
import { NodeRunError, errorMessage } from "../errors.js";
import type { IncomingEvent } from "../ingest/event.js";
import type { HttpTransport, NodeResult } from "../nodes/node-type.js";
import type { NodeRecord, NodeStatus } from "../store/store.js";
import type { CompiledWorkflow, CompiledWorkflowNode } from "./compile-workflow.js";
import { backoffDelayMs } from "./retry.js";
import { buildScope } from "./template-context.js";

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface RunOutcome {
  readonly status: "succeeded" | "failed" | "interrupted";
  /** Every failed node's error, "node <id>: <message>", joined; null unless failed. */
  readonly error: string | null;
  readonly vars: Record<string, unknown>;
}

export interface ExecuteRunOptions {
  readonly workflow: CompiledWorkflow;
  readonly event: IncomingEvent;
  readonly runId: string;
  readonly http: HttpTransport;
  /** Frozen once by the caller: every node's template scope shares it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborting stops new nodes and attempts; the run is then "interrupted" and stays unfinished. */
  readonly signal: AbortSignal;
  /** Node records of an earlier, unfinished execution of this run: succeeded nodes are not run again. */
  readonly previous?: readonly NodeRecord[];
  /** Called when a node starts (status "running") and with its final record. */
  readonly onNode: (record: NodeRecord) => Promise<void>;
  readonly sleep?: Sleep;
}

type NodeOutcome =
  | { readonly kind: "succeeded"; readonly result: NodeResult }
  | { readonly kind: "failed" }
  | { readonly kind: "interrupted" };

const abortableSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, { signal });
};

/**
 * Runs one workflow for one event. The walk starts at the graph's start node; a node's
 * successors are its result's `next` if it gives one, else the graph's. Several successors run
 * as parallel branches. A node runs at most once per run: where branches join, the node runs
 * when the first branch reaches it, and later arrivals do not run it again.
 *
 * A failed node (after its attempts) ends its branch and fails the run; other branches go on.
 * On resume, nodes recorded as succeeded are not run again: their recorded output is reused, so
 * a request already sent is not sent twice after a restart.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunOutcome> {
  const { workflow, signal } = options;
  const sleep = options.sleep ?? abortableSleep;
  const previous = new Map((options.previous ?? []).map((record) => [record.id, record]));
  const visited = new Set<string>();
  const outputs: Record<string, unknown> = {};
  const vars: Record<string, unknown> = {};
  const errors: string[] = [];
  let interrupted = false;

  async function attempt(node: CompiledWorkflowNode): Promise<NodeOutcome> {
    const startedAt = new Date().toISOString();
    const started = performance.now();
    // One literal a record: a spread of shared fields with more keys after it is refused here
    // (eslint.config.js says why).
    const record = (
      status: NodeStatus,
      attempts: number,
      output: unknown,
      error: string | null,
    ): NodeRecord => ({
      id: node.id,
      type: node.type,
      startedAt,
      status,
      attempts,
      durationMs: status === "running" ? null : Math.round(performance.now() - started),
      output,
      error,
    });
    await options.onNode(record("running", 1, null, null));
    const scope = buildScope({
      event: options.event,
      runId: options.runId,
      workflowId: workflow.id,
      vars,
      nodes: outputs,
      env: options.env,
    });
    const maxAttempts = node.compiled.retry?.attempts ?? 1;
    for (let attempts = 1; ; attempts += 1) {
      let result: NodeResult;
      try {
        result = await node.compiled.run({ scope, http: options.http, signal });
      } catch (error) {
        // An abort makes requests fail; that is a shutdown, not the node's failure.
        if (signal.aborted) return { kind: "interrupted" };
        const retryable = error instanceof NodeRunError && error.retryable && attempts < maxAttempts;
        if (!retryable) {
          const message = errorMessage(error);
          errors.push(`node ${node.id}: ${message}`);
          await options.onNode(record("failed", attempts, null, message));
          return { kind: "failed" };
        }
        const wait = backoffDelayMs(attempts, {
          baseMs: OUTGOING_BACKOFF_BASE_MS,
          maxMs: OUTGOING_BACKOFF_MAX_MS,
          retryAfterMs: error.retryAfterMs,
        });
        try {
          await sleep(wait, signal);
        } catch (sleepError) {
          if (signal.aborted) return { kind: "interrupted" };
          throw sleepError;
        }
        if (signal.aborted) return { kind: "interrupted" };
        continue;
      }
      await options.onNode(record("succeeded", attempts, result.output ?? null, null));
      return { kind: "succeeded", result };
    }
  }

  async function visit(id: string): Promise<void> {
    if (visited.has(id)) return;
    visited.add(id);
    if (signal.aborted) {
      interrupted = true;
      return;
    }
    const node = workflow.nodes.get(id);
    if (!node) throw new Error(`workflow ${workflow.id} has no node "${id}" (the graph was validated)`);
    let result: NodeResult;
    const earlier = previous.get(id);
    if (earlier?.status === "succeeded") {
      result = node.compiled.restore?.(earlier.output) ?? { output: earlier.output };
    } else {
      const outcome = await attempt(node);
      if (outcome.kind === "interrupted") interrupted = true;
      if (outcome.kind !== "succeeded") return;
      result = outcome.result;
    }
    outputs[id] = result.output ?? null;
    // Defined, not assigned: a value named __proto__ must stay a value.
    for (const [name, value] of Object.entries(result.vars ?? {})) {
      Object.defineProperty(vars, name, { value, enumerable: true, writable: true, configurable: true });
    }
    const next = result.next ?? workflow.graph.successors.get(id) ?? [];
    await Promise.all(next.map(visit));
  }

  await visit(workflow.graph.start);
  if (interrupted) return { status: "interrupted", error: null, vars };
  if (errors.length > 0) return { status: "failed", error: errors.join("; "), vars };
  return { status: "succeeded", error: null, vars };
}
