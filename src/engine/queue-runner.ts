import { Queue, WaitingError, Worker, type Job } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import { errorMessage, StoreUnavailableError } from "../errors.js";
import type { Metrics } from "../metrics.js";
import type { HttpTransport } from "../nodes/node-type.js";
import type { RunRef, Store } from "../store/store.js";
import type { Runner } from "./dispatcher.js";
import { executeStoredRun } from "./run-stored.js";
import { createRunThrottle, type IngressLoad } from "./run-throttle.js";

/**
 * How long an active job's lock lives without renewal (renewed every half of it). A killed
 * instance's jobs are taken over once their lock has lapsed and a stalled check has seen it twice:
 * within JOB_LOCK_MS + 2 × STALLED_CHECK_INTERVAL_MS, seconds rather than BullMQ's default minute.
 */
const JOB_LOCK_MS = 5_000;
/** Every worker runs the check, but Redis lets only one of them do it per interval. */
const STALLED_CHECK_INTERVAL_MS = 2_500;
/** Takeovers before BullMQ fails a job; the periodic resume requeues even such a run from the store. */
const MAX_STALLED_COUNT = 3;
/** Attempts of a run whose execution throws (store unreachable, a bug). Node failures are retried inside the run. */
const JOB_ATTEMPTS = 5;
/** First wait before a new attempt; it doubles with each one. */
const JOB_BACKOFF_MS = 1_000;
/** Requeues recorded runs that have no job, e.g. when Redis blipped between accept and enqueue. */
const RESUME_INTERVAL_MS = 30_000;
/** Enqueued in slices, so a long backlog is not one huge pipeline. */
const RESUME_SLICE = 500;
/** An enqueue that gets no answer fails (the sender gets 503) instead of holding its request open. */
const DISPATCH_TIMEOUT_MS = 5_000;
/** After the grace period and the abort, how long closing may wait on Redis. */
const CLOSE_TIMEOUT_MS = 5_000;
/** ioredis statuses of a connection that has lost Redis (rather than one still connecting). */
const FAILING = new Set(["reconnecting", "close", "end"]);
/** BullMQ's pause before retrying a failed Redis call in its loops; its 15 s default would slow recovery. */
const WORKER_RETRY_DELAY_MS = 1_000;
const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const QUEUE_NAME = "runs";
const JOB_NAME = "run";

const reconnect = (times: number): number => Math.min(RECONNECT_BASE_MS * 2 ** (times - 1), RECONNECT_MAX_MS);

export interface QueueRunnerDeps {
  readonly store: Store;
  readonly holder: SnapshotHolder;
  readonly http: HttpTransport;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Runs this instance executes at once (INLET_CONCURRENCY). */
  readonly concurrency: number;
  readonly load: IngressLoad;
  readonly redisUrl: string;
  /** Our key prefix; BullMQ's keys live under `${prefix}bull:`. */
  readonly prefix: string;
  /** Tests shorten the retries of runs whose execution throws. */
  readonly retry?: { readonly attempts: number; readonly backoffMs: number };
}

/**
 * Runs workflows through a BullMQ queue shared by every instance on the same Redis. A run is
 * recorded by `store.accept` first; its job (id = run id, so enqueueing twice is a no-op) only says
 * "execute it". The store stays the source of truth: whatever has no job is requeued by the
 * periodic resume, and a run executed twice reuses the nodes its first execution finished.
 */
export function createQueueRunner(deps: QueueRunnerDeps): Runner {
  const { logger } = deps;
  const bullPrefix = `${deps.prefix}bull`;
  // BullMQ wants the worker's connection to wait for Redis forever; the queue's fails fast instead.
  const queueConnection = connect(deps.redisUrl, {
    connectionName: "inlet-queue",
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  const workerConnection = connect(deps.redisUrl, {
    connectionName: "inlet-worker",
    maxRetriesPerRequest: null,
  });
  const connectionLog = failureLog(logger, "the run queue cannot reach Redis; runs wait until it is back");
  const resumeLog = failureLog(logger, "unfinished runs could not be requeued; retrying");
  const abort = new AbortController();
  const runDeps = Object.assign({}, deps, { signal: abort.signal });
  let stopping = false;
  let resuming: Promise<number> | undefined;

  const queue = new Queue<RunRef>(QUEUE_NAME, {
    connection: queueConnection,
    prefix: bullPrefix,
    defaultJobOptions: {
      attempts: deps.retry?.attempts ?? JOB_ATTEMPTS,
      backoff: { type: "exponential", delay: deps.retry?.backoffMs ?? JOB_BACKOFF_MS },
      // The store keeps the history. A failed job is removed too, so the periodic resume can
      // requeue a run whose failure could not be recorded.
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  const worker = new Worker<RunRef>(QUEUE_NAME, (job, token) => processJob(job, token), {
    connection: workerConnection,
    prefix: bullPrefix,
    concurrency: deps.concurrency,
    lockDuration: JOB_LOCK_MS,
    stalledInterval: STALLED_CHECK_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
    runRetryDelay: WORKER_RETRY_DELAY_MS,
  });

  const throttle = createRunThrottle({
    concurrency: deps.concurrency,
    load: deps.load,
    canPause: false,
    onChange: (limit) => {
      worker.concurrency = limit;
    },
  });
  const connections = [queueConnection, workerConnection];
  const connectionsDown = (): boolean => connections.some((connection) => connection.status !== "ready");
  const onReady = (): void => {
    if (connectionsDown() || !connectionLog.succeeded()) return;
    logger.info("the run queue reaches Redis again");
    // Runs recorded while the queue was away get their jobs now rather than at the next interval.
    void resumeUnfinished();
  };
  for (const connection of connections) {
    // ioredis emits 'error' on every failed reconnect: one log line per outage, not one per attempt.
    connection.on("error", (error: Error) => connectionLog.failed(error));
    connection.on("ready", onReady);
  }
  const onBullError = (error: Error): void => {
    if (stopping) return;
    if (connectionsDown() || isSocketError(error)) connectionLog.failed(error);
    else logger.warn({ err: error }, `run queue error: ${error.message}`);
  };
  queue.on("error", onBullError);
  worker.on("error", onBullError);
  // Also emitted when BullMQ's own blocking connection is back.
  worker.on("ready", onReady);
  worker.on("stalled", (jobId) =>
    logger.info({ runId: jobId }, "run requeued: the instance running it stopped"),
  );

  const resumeTimer = setInterval(() => {
    void resumeUnfinished();
  }, RESUME_INTERVAL_MS);
  resumeTimer.unref();

  async function processJob(job: Job<RunRef>, token: string | undefined): Promise<void> {
    let outcome: "finished" | "interrupted";
    try {
      outcome = await executeStoredRun(job.data, runDeps);
    } catch (error) {
      await onAttemptFailed(job, error);
      throw error;
    }
    if (outcome === "interrupted") {
      // Shutdown: hand the job back now, so another instance runs it without waiting for the lock to lapse.
      await job.moveToWait(token).catch((error: unknown) => {
        logger.warn({ err: error, runId: job.data.runId }, "run handed back through its lock instead");
      });
      throw new WaitingError();
    }
  }

  async function onAttemptFailed(job: Job<RunRef>, error: unknown): Promise<void> {
    const { runId, workflow } = job.data;
    const attempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    if (attempt < attempts) {
      logger.warn(
        { err: error, runId, attempt },
        `run could not be executed, retrying: ${errorMessage(error)}`,
      );
      return;
    }
    const message = `run could not be executed after ${attempts} attempts: ${errorMessage(error)}`;
    logger.error({ err: error, runId }, message);
    try {
      await deps.store.finishRun(runId, {
        status: "failed",
        finishedAt: new Date().toISOString(),
        error: message,
      });
      deps.metrics.runs.inc({ workflow, status: "failed" });
    } catch (finishError) {
      // The run stays unfinished in the store, so the periodic resume executes it again.
      logger.warn({ err: finishError, runId }, "could not record the run as failed; it will be retried");
    }
  }

  async function dispatch(runs: readonly RunRef[]): Promise<void> {
    if (runs.length === 0) return;
    const jobs = runs.map((ref) => ({
      name: JOB_NAME,
      data: { runId: ref.runId, workflow: ref.workflow, eventId: ref.eventId },
      opts: { jobId: ref.runId },
    }));
    try {
      await settleWithin(queue.addBulk(jobs), DISPATCH_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`Could not queue the run: ${errorMessage(error)}`, { cause: error });
    }
  }

  async function requeueUnfinished(): Promise<number> {
    const runs = await deps.store.listUnfinishedRuns();
    for (let start = 0; start < runs.length; start += RESUME_SLICE) {
      await dispatch(runs.slice(start, start + RESUME_SLICE));
    }
    return runs.length;
  }

  /** Never rejects on an outage: an instance started while Redis is down serves once it is back. */
  function resumeUnfinished(): Promise<number> {
    if (stopping) return Promise.resolve(0);
    resuming ??= requeueUnfinished()
      .then((count) => {
        resumeLog.succeeded();
        return count;
      })
      .catch((error: unknown) => {
        if (error instanceof StoreUnavailableError) resumeLog.failed(error);
        else logger.error({ err: error }, `unfinished runs could not be requeued: ${errorMessage(error)}`);
        return 0;
      })
      .finally(() => {
        resuming = undefined;
      });
    return resuming;
  }

  return {
    dispatch,
    resumeUnfinished,
    async stop(graceMs) {
      stopping = true;
      clearInterval(resumeTimer);
      throttle.stop();
      // Cut mid-handshake, a connection's set-up commands (ioredis's ready check, BullMQ's blocking
      // client's) are rejected with nobody listening: an unhandled rejection, which ends the process
      // (taskforcesh/bullmq#2686). A Redis that answers finishes the handshakes first; one that is
      // lost (between reconnects, or connecting again after a failure) is not waited for.
      const lost = connections.some(
        (connection) =>
          FAILING.has(connection.status) || (connectionLog.failing() && connection.status === "connecting"),
      );
      if (!lost) {
        await settlesWithin(Promise.all([worker.waitUntilReady(), queue.waitUntilReady()]), CLOSE_TIMEOUT_MS);
      }
      const workerClosed = worker.close();
      if (!(await settlesWithin(workerClosed, graceMs))) {
        abort.abort();
        if (!(await settlesWithin(workerClosed, CLOSE_TIMEOUT_MS))) {
          logger.warn(
            "Redis does not answer while stopping: runs still active are taken over when their lock lapses",
          );
        }
      }
      abort.abort();
      await settlesWithin(queue.close(), CLOSE_TIMEOUT_MS);
      queueConnection.disconnect();
      // Cutting the worker's connection under a close still in progress would make BullMQ retry its
      // last calls in a tight loop, so it is released only once the close completes.
      workerClosed
        .catch((error: unknown) => logger.warn({ err: error }, "the run worker did not close cleanly"))
        .finally(() => workerConnection.disconnect());
    },
  };
}

function connect(url: string, options: RedisOptions): Redis {
  return new Redis(url, { retryStrategy: reconnect, ...options });
}

/** A Node.js system error (ECONNRESET, ECONNREFUSED, …): the connection, not the command, failed. */
function isSocketError(error: Error): boolean {
  return "syscall" in error;
}

/** Logs the first failure of one kind, then nothing until it works again. */
function failureLog(
  logger: Logger,
  message: string,
): { failed(error: unknown): void; succeeded(): boolean; failing(): boolean } {
  let failing = false;
  return {
    failing: () => failing,
    failed(error) {
      if (failing) return;
      failing = true;
      logger.warn({ err: error }, `${message}: ${errorMessage(error)}`);
    },
    /** True when this ends a failure. */
    succeeded() {
      const ended = failing;
      failing = false;
      return ended;
    },
  };
}

/** Rejects with StoreUnavailableError when `work` has not settled within `ms`; `work` itself is left to finish. */
function settleWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`Redis gave no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Whether `work` settled, either way, within `ms`. */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}
