import Database from "better-sqlite3";
import {
  GROUP_COMMIT_DEFER_MAX_TURNS,
  GROUP_COMMIT_DEFER_MAX_WRITES,
  GROUP_COMMIT_LOAD_WRITES_PER_TURN,
  SQLITE_LOCK_RETRY_MS,
} from "../defaults.js";

/** Registers what to undo outside SQLite (in-memory state) if this write is rolled back. */
export type OnRollback = (undo: () => void) => void;

interface PendingWrite {
  readonly work: (onRollback: OnRollback) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** One write of a shared batch threw while the transaction was still open: the others may commit alone. */
class WriteFailed extends Error {
  constructor(cause: unknown) {
    super("a write of the batch failed", { cause });
  }
}

const NO_BUSY_WAIT = "PRAGMA busy_timeout = 0";

/** BEGIN found the write lock held: no write of the batch ran, so the batch can simply wait. */
class LockBusy extends Error {
  constructor(cause: unknown) {
    super("the write lock is held elsewhere", { cause });
  }
}

/**
 * Group commit: every write asked for during one turn of the event loop commits in a single
 * transaction, at the end of that turn (setImmediate runs after the poll phase has handed over all
 * ready requests), or under load a few turns later (below). One WAL append then serves dozens of
 * requests instead of one each; an idle server commits a lone write in the same turn. Callers are
 * resolved after the COMMIT: nobody hears "done" for a write that is not durable. A write that
 * also changes memory registers how to undo it, and that runs whenever its SQL is rolled back.
 *
 * A write that throws is rolled back alone and only its caller sees the error. The batch first
 * runs without savepoints (a SAVEPOINT and RELEASE per write cost more than a third of an
 * accept's SQLite time); only if one of its writes throws is the batch rolled back, undone and
 * run again with each write in its own savepoint. A write's work may therefore run twice, and
 * must leave nothing outside SQLite that it does not register with `onRollback`.
 *
 * Under load a batch waits for more writes: while each turn queues GROUP_COMMIT_LOAD_WRITES_PER_TURN
 * or more, for up to GROUP_COMMIT_DEFER_MAX_TURNS turns and below GROUP_COMMIT_DEFER_MAX_WRITES.
 * A commit appends every page it changed to the WAL, whole: the last page of each table and index
 * it touched is rewritten by every commit however little was added to it, so fewer, larger commits
 * append less per request. A turn that queued fewer writes is not under load, and the batch
 * commits at once: a pending immediate does not make the loop wait for I/O, so a light load would
 * gain nothing from waiting.
 *
 * A batch started from the event loop does not wait for a write lock held elsewhere (the checkpoint
 * thread's RESTART, another process) in SQLite's busy handler, which sleeps the whole loop in steps
 * of 1, 2, 5 and 10 ms: it tries again every SQLITE_LOCK_RETRY_MS from a timer, with the writes
 * queued meanwhile, for as long as the connection's busy timeout (as set when this was created),
 * and then fails with SQLite's error. Only flush() (a store closing) waits in the busy handler:
 * it must commit now.
 */
export class SqliteGroupCommit {
  readonly #db: Database.Database;
  readonly #batch: (writes: readonly PendingWrite[]) => Outcome[];
  #pending: PendingWrite[] = [];
  #scheduled: NodeJS.Immediate | null = null;
  /** Writes queued since the end of the last turn. */
  #queuedThisTurn = 0;
  /** Turns the pending batch has already waited. */
  #deferredTurns = 0;
  /** Set while the pending batch waits for the write lock; it alone commits the queue then. */
  #lockRetry: NodeJS.Timeout | null = null;
  /** When the pending batch first found the write lock held (performance.now()). */
  #lockWaitSince: number | null = null;
  /** Up to when that wait has been told to `onLockWait`. */
  #lockWaitToldUntil = 0;
  readonly #onLockWait: ((ms: number) => void) | undefined;
  readonly #busyTimeoutMs: number;
  readonly #restoreBusyTimeout: string;

  /** `onLockWait` hears, as it passes, the time writes spend waiting for the write lock. */
  constructor(db: Database.Database, options: { onLockWait?: (ms: number) => void } = {}) {
    this.#db = db;
    this.#onLockWait = options.onLockWait;
    this.#busyTimeoutMs = db.pragma("busy_timeout", { simple: true }) as number;
    this.#restoreBusyTimeout = `PRAGMA busy_timeout = ${this.#busyTimeoutMs}`;
    /** Whether the transaction being attempted got past BEGIN. */
    let begun = false;
    const together = db.transaction(
      (writes: readonly PendingWrite[], undos: Array<() => void>): Outcome[] => {
        begun = true;
        return writes.map((write) => {
          try {
            return { ok: true, value: write.work((undo) => undos.push(undo)) };
          } catch (error) {
            // Some errors (disk full, I/O, OR ROLLBACK) end the whole transaction, not only the
            // statement: the writes before are gone too, and the ones after must not run on their own.
            throw db.inTransaction ? new WriteFailed(error) : error;
          }
        });
      },
    );
    const inSavepoint = db.transaction((write: PendingWrite, onRollback: OnRollback) =>
      write.work(onRollback),
    );
    const isolated = db.transaction(
      (writes: readonly PendingWrite[], undos: Array<() => void>): Outcome[] => {
        begun = true;
        return writes.map((write) => {
          const own: Array<() => void> = [];
          try {
            const value = inSavepoint(write, (undo) => own.push(undo));
            undos.push(...own);
            return { ok: true, value };
          } catch (error) {
            undoAll(own);
            if (!db.inTransaction) throw error;
            return { ok: false, error };
          }
        });
      },
    );
    const attempt = (transaction: typeof together, writes: readonly PendingWrite[]): Outcome[] => {
      const undos: Array<() => void> = [];
      begun = false;
      try {
        return transaction.immediate(writes, undos);
      } catch (error) {
        undoAll(undos);
        throw !begun && isBusy(error) ? new LockBusy(error) : error;
      }
    };
    this.#batch = (writes) => {
      try {
        return attempt(together, writes);
      } catch (error) {
        if (!(error instanceof WriteFailed)) throw error;
        if (writes.length === 1) return [{ ok: false, error: error.cause }];
        return attempt(isolated, writes);
      }
    };
  }

  /** Queues `work` (synchronous statements) for the next commit; resolves with its result once committed. */
  run<T>(work: (onRollback: OnRollback) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#queuedThisTurn += 1;
      if (this.#lockRetry === null) this.#scheduled ??= setImmediate(() => this.#endOfTurn());
    });
  }

  /** Commits the batch, unless the load says the next turn's writes should join it. */
  #endOfTurn(): void {
    this.#scheduled = null;
    const underLoad = this.#queuedThisTurn >= GROUP_COMMIT_LOAD_WRITES_PER_TURN;
    this.#queuedThisTurn = 0;
    if (
      underLoad &&
      this.#pending.length < GROUP_COMMIT_DEFER_MAX_WRITES &&
      this.#deferredTurns < GROUP_COMMIT_DEFER_MAX_TURNS
    ) {
      this.#deferredTurns += 1;
      this.#scheduled = setImmediate(() => this.#endOfTurn());
      return;
    }
    this.#commit(false);
  }

  /** Commits what is queued now, waiting for the write lock if need be: close() loses no accepted write. */
  flush(): void {
    this.#commit(true);
  }

  #commit(waitForLock: boolean): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    if (this.#lockRetry) clearTimeout(this.#lockRetry);
    this.#scheduled = null;
    this.#lockRetry = null;
    this.#queuedThisTurn = 0;
    this.#deferredTurns = 0;
    const writes = this.#pending;
    if (writes.length === 0) return;
    this.#pending = [];
    let outcomes: Outcome[];
    try {
      if (!this.#db.open) throw new TypeError("The database connection is not open");
      // The backstop for a leftover that #releaseLeftover could not roll back: if this fails too, this
      // batch fails and the next one tries again.
      if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
      outcomes = waitForLock ? this.#batch(writes) : this.#batchWithoutWaiting(writes);
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, locked, closed): nothing of the batch was written.
      this.#releaseLeftover();
      if (!waitForLock && error instanceof LockBusy && this.#waitForLock(writes)) return;
      this.#endLockWait();
      const reason = error instanceof LockBusy ? error.cause : error;
      for (const write of writes) write.reject(reason);
      return;
    }
    this.#endLockWait();
    outcomes.forEach((outcome, index) => {
      const write = writes[index]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }

  #batchWithoutWaiting(writes: readonly PendingWrite[]): Outcome[] {
    // exec, not a prepared statement: SQLite applies this pragma when it compiles it.
    this.#db.exec(NO_BUSY_WAIT);
    try {
      return this.#batch(writes);
    } finally {
      this.#db.exec(this.#restoreBusyTimeout);
    }
  }

  /** Queues the batch again, first, for a retry from a timer; false once the busy timeout has passed. */
  #waitForLock(writes: PendingWrite[]): boolean {
    const now = performance.now();
    if (this.#lockWaitSince === null) {
      this.#lockWaitSince = now;
      this.#lockWaitToldUntil = now;
    } else {
      this.#tellLockWait(now);
    }
    if (now - this.#lockWaitSince >= this.#busyTimeoutMs) return false;
    this.#pending = writes.concat(this.#pending);
    this.#lockRetry = setTimeout(() => this.#commit(false), SQLITE_LOCK_RETRY_MS);
    return true;
  }

  #endLockWait(): void {
    if (this.#lockWaitSince === null) return;
    this.#tellLockWait(performance.now());
    this.#lockWaitSince = null;
  }

  #tellLockWait(now: number): void {
    this.#onLockWait?.(now - this.#lockWaitToldUntil);
    this.#lockWaitToldUntil = now;
  }

  /**
   * A batch whose ROLLBACK failed leaves its transaction open: it would hold the write lock (other
   * processes' writes and checkpoints wait) and better-sqlite3 would run every later batch nested
   * in it, as a savepoint, acknowledged and never committed. Its writes were reported failed, so
   * they are dropped at once.
   */
  #releaseLeftover(): void {
    if (!this.#db.open || !this.#db.inTransaction) return;
    try {
      this.#db.exec("ROLLBACK");
    } catch {
      // Still open: the next flush rolls it back before it begins.
    }
  }
}

function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY");
}

function undoAll(undos: Array<() => void>): void {
  for (let index = undos.length - 1; index >= 0; index -= 1) undos[index]!();
}
