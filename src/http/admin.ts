import { createHash, timingSafeEqual } from "node:crypto";
import { Router, type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import * as defaults from "../defaults.js";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import type { RuntimeIntegration } from "../config/snapshot.js";
import type { RunDispatcher } from "../engine/dispatcher.js";
import type { SampleBuffer } from "../ingest/sample-buffer.js";
import type { HttpError } from "../errors.js";
import { httpError } from "../http-errors.js";
import type { Metrics } from "../metrics.js";
import type { RetryOutcome, RunRef, RunStatus, Store } from "../store/store.js";
import { clientKey } from "./client-address.js";
import { sendJson } from "./error-response.js";
import { refuseIfOver, type FailureLimit, type RateLimits } from "./rate-limit.js";

const RUN_STATUSES: readonly RunStatus[] = ["queued", "running", "succeeded", "failed"];

/** Plain decimal digits only: Number() would also take `1e2`, `0x10`, ` 5` and `5.0`. */
const LIMIT_PATTERN = /^[1-9][0-9]*$/;

export interface AdminDeps {
  readonly adminToken: string;
  readonly holder: SnapshotHolder;
  readonly store: Store;
  readonly dispatcher: RunDispatcher;
  readonly samples: SampleBuffer;
  readonly metrics: Metrics;
  readonly publicUrl: () => string;
  readonly rateLimits: RateLimits;
  readonly logger: Logger;
}

/** /v1/admin/* (SPEC 6), behind `Authorization: Bearer $INLET_ADMIN_TOKEN`. */
export function adminRoutes(deps: AdminDeps): Router {
  const router = Router();
  const failures = deps.rateLimits.failures("admin", {
    points: defaults.AUTH_FAILURES_PER_WINDOW,
    windowMs: defaults.AUTH_FAILURE_WINDOW_MS,
  });
  router.use("/v1/admin", requireAdminToken(deps.adminToken, failures));

  router.get("/v1/admin/integrations", async (_req, res) => {
    const counts = await requestCounts(deps.metrics);
    const integrations = [...deps.holder.current.integrations.values()].map((integration) =>
      Object.assign(describeIntegration(integration, deps.publicUrl()), { counts: counts(integration.id) }),
    );
    sendJson(res, 200, { integrations });
  });

  router.get("/v1/admin/integrations/:id/samples", async (req, res) => {
    const id = String(req.params["id"]);
    const integration = deps.holder.current.integrations.get(id);
    if (!integration) {
      throw httpError("not-found", { message: `No integration with id "${id}"` });
    }
    await deps.samples.flush();
    // Newest first. A lowered `samples` (down to 0) is trimmed in the store once it has held for
    // SAMPLE_TRIM_GRACE_MS (the sample buffer's `retain`); this slice makes it hold from the reload.
    const samples = await deps.store.listSamples(id);
    sendJson(res, 200, { samples: samples.slice(0, integration.samples) });
  });

  router.get("/v1/admin/runs", async (req, res) => {
    const status = nonEmpty(singleParam(req.query, "status"));
    if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) {
      throw httpError("invalid-request", { message: `status must be one of ${RUN_STATUSES.join(", ")}` });
    }
    const limit = runsLimit(nonEmpty(singleParam(req.query, "limit")));
    const workflow = nonEmpty(singleParam(req.query, "workflow"));
    const runs = await deps.store.listRuns({ workflow, status: status as RunStatus | undefined, limit });
    sendJson(res, 200, {
      runs: runs.map(({ nodes: _nodes, retriedBy: _retriedBy, ...summary }) => summary),
    });
  });

  router.get("/v1/admin/runs/:runId", async (req, res) => {
    const run = await deps.store.getRun(String(req.params["runId"]));
    if (!run) throw httpError("not-found", { message: "No run with this id" });
    sendJson(res, 200, run);
  });

  router.post("/v1/admin/runs/:runId/retry", async (req, res) => {
    const run = await deps.store.getRun(String(req.params["runId"]));
    if (!run) throw httpError("not-found", { message: "No run with this id" });
    if (run.status !== "failed") throw httpError("run-not-failed");
    // Before the workflow's state: enabling it would not make a retried run retryable.
    if (run.retriedBy !== null) throw alreadyRetried(run.runId, run.retriedBy);
    // A workflow that no longer exists is let through: its run fails saying so, as a resumed one does.
    if (deps.holder.current.workflows.get(run.workflow)?.enabled === false) {
      throw httpError("workflow-disabled", {
        message: `Workflow "${run.workflow}" is disabled: enable it before retrying its runs`,
      });
    }
    // The read above may be stale (a concurrent retry, here or on another instance): the store's
    // atomic claim decides.
    const retry = retriedRun(run.runId, await deps.store.retryRun(run.runId));
    try {
      await deps.dispatcher.dispatch([retry]);
    } catch (error) {
      // The retry is durable (and its failed run marked): the runner's periodic resume queues it
      // later, and a client asking again would only hear already-retried.
      deps.logger.warn({ err: error, runId: retry.runId }, "retry recorded but not queued yet");
    }
    sendJson(res, 202, { runId: retry.runId, retryOf: run.runId, status: "queued" });
  });

  router.get("/v1/admin/config", (_req, res) => {
    const snapshot = deps.holder.current;
    const lastReload = deps.holder.lastReload;
    sendJson(res, 200, {
      loadedAt: snapshot.loadedAt.toISOString(),
      dir: snapshot.dir,
      files: snapshot.files,
      documents: snapshot.documentCounts,
      lastReload: {
        at: lastReload.at.toISOString(),
        ok: lastReload.ok,
        errors: lastReload.errors.map(({ file, line, col, code, message }) => ({
          file,
          line,
          col,
          code,
          message,
        })),
      },
    });
  });
  return router;
}

export function describeIntegration(
  integration: RuntimeIntegration,
  publicUrl: string,
): Record<string, unknown> {
  const { auth } = integration;
  return {
    id: integration.id,
    name: integration.name ?? null,
    icon: integration.icon ?? null,
    endpoint: integration.endpoint,
    url: `${publicUrl}/v1/incoming/${integration.endpoint}`,
    enabled: integration.enabled,
    auth,
    dedup: integration.dedup
      ? Object.assign({}, integration.dedupConfig, { ttlMs: integration.dedup.ttlMs })
      : null,
    rateLimit: integration.rateLimit?.text ?? null,
    maxBodyBytes: integration.maxBodyBytes,
    samples: integration.samples,
    workflows: integration.workflows,
  };
}

/** The retry the store created, or the answer to a retry it refused. */
function retriedRun(failedRunId: string, outcome: RetryOutcome): RunRef {
  switch (outcome.outcome) {
    case "created":
      return outcome.run;
    case "already-retried":
      throw alreadyRetried(failedRunId, outcome.retriedBy);
    case "not-failed":
      throw httpError("run-not-failed");
    case "not-found":
      throw httpError("not-found", { message: "No run with this id" });
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown retry outcome ${JSON.stringify(unknown)}`);
    }
  }
}

/** 409 naming the retry in its message, and in `retriedBy` for a script to follow. */
function alreadyRetried(failedRunId: string, retriedBy: string): HttpError {
  return httpError("already-retried", {
    message: `Run ${failedRunId} was already retried by run ${retriedBy}: retry that run if it failed`,
    fields: { retriedBy },
  });
}

/** Requests and duplicates per integration since this process started, read from its metrics. */
async function requestCounts(
  metrics: Metrics,
): Promise<(integration: string) => { requests: number; duplicates: number }> {
  const [requests, duplicates] = await Promise.all([metrics.requests.get(), metrics.duplicates.get()]);
  const total = (values: typeof requests.values, integration: string): number =>
    values.reduce((sum, value) => (value.labels.integration === integration ? sum + value.value : sum), 0);
  return (integration) => ({
    requests: total(requests.values, integration),
    duplicates: total(duplicates.values, integration),
  });
}

function requireAdminToken(
  token: string,
  failures: FailureLimit,
): (req: Request, res: Response, next: NextFunction) => Promise<void> {
  const expected = createHash("sha256").update(token).digest();
  return async (req, _res, next) => {
    const header = req.headers.authorization ?? "";
    const presented = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
    const digest = createHash("sha256").update(presented).digest();
    const client = clientKey(req.ip);
    if (!timingSafeEqual(digest, expected)) {
      // No token at all is not a guess: it is the console before its login.
      if (presented !== "") await refuseIfOver(failures.fail(client));
      throw httpError("admin-unauthorized", {
        headers: { "WWW-Authenticate": 'Bearer realm="inlet-admin"' },
      });
    }
    await refuseIfOver(failures.blockedFor(client));
    next();
  };
}

/**
 * One query parameter's text, "" when absent. A repeated or bracketed one (`?status=a&status=b`,
 * `?status[]=a`) is refused: read as no filter, it would answer more than the caller asked for.
 */
function singleParam(query: Request["query"], name: string): string {
  const value = query[name];
  const bracketed = Object.keys(query).some((key) => key.startsWith(`${name}[`));
  if (bracketed || (value !== undefined && typeof value !== "string")) {
    throw httpError("invalid-request", { message: `${name} must be given once, as one value` });
  }
  return value ?? "";
}

/** `?workflow=&status=` (empty values, as SPEC 6 writes them) means no filter. */
function nonEmpty(value: string): string | undefined {
  return value !== "" ? value : undefined;
}

/** `?limit=`: absent or empty is the default page. */
function runsLimit(text: string | undefined): number {
  if (text === undefined) return defaults.RUNS_PAGE_DEFAULT;
  if (!LIMIT_PATTERN.test(text) || Number(text) > defaults.RUNS_PAGE_MAX) {
    throw httpError("invalid-request", {
      message: `limit must be an integer from 1 to ${defaults.RUNS_PAGE_MAX}`,
    });
  }
  return Number(text);
}
