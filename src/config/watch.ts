import type { Logger } from "pino";
import type { ConfigLoader } from "./load.js";
import { buildSnapshot, type Snapshot, type SnapshotDeps } from "./snapshot.js";
import type { SnapshotHolder } from "./snapshot-holder.js";
import { formatText } from "./format/text.js";
import { watchConfigDir } from "./watch-dir.js";
import type { Metrics } from "../metrics.js";

export interface Reloader {
  /** Loads the whole config again; swaps the snapshot only when it is valid. Resolves to success. */
  reload(reason: string): Promise<boolean>;
  close(): void;
}

/**
 * Hot reload (SPEC 9.1): file changes (debounced, so a burst of editor writes or a
 * rename-on-save becomes one reload) and explicit calls (SIGHUP) reload the whole set. Reloads
 * never overlap; a trigger during a reload schedules exactly one more. After close(), nothing
 * reloads or swaps any more: shutdown may already have closed what a swap would touch.
 */
export function createReloader(options: {
  holder: SnapshotHolder;
  loader: ConfigLoader;
  snapshotDeps: () => SnapshotDeps;
  logger: Logger;
  metrics: Metrics;
  watch: boolean;
  debounceMs: number;
  /** Told of each swap, after it: what the previous config kept may need releasing. */
  onSwap?: (previous: Snapshot, next: Snapshot) => void;
}): Reloader {
  const { holder, loader, logger, metrics } = options;
  const dir = holder.current.dir;
  let running: Promise<boolean> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function reloadOnce(reason: string): Promise<boolean> {
    const startedAt = new Date();
    const loaded = await loader.load(dir);
    if (closed) {
      // Loaded while shutting down: a swap now would hand the new config to a closing store.
      logger.info({ reason }, "config reload discarded: reloading has stopped");
      return false;
    }
    const built = loaded.ok ? buildSnapshot(loaded.config, options.snapshotDeps()) : loaded;
    if (!built.ok) {
      holder.recordFailure(startedAt, built.diagnostics);
      metrics.reloads.inc({ result: "failed" });
      logger.warn(
        { reason, problems: built.diagnostics.length },
        `config reload rejected, still serving the previous config:\n${formatText(built.diagnostics)}`,
      );
      return false;
    }
    const previous = holder.current;
    holder.swap(built.snapshot);
    options.onSwap?.(previous, built.snapshot);
    metrics.reloads.inc({ result: "ok" });
    logger.info({ reason, files: built.snapshot.files.length }, "config reloaded");
    return true;
  }

  function reload(reason: string): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    if (running) {
      again = true;
      return running;
    }
    running = reloadOnce(reason)
      .catch((error: unknown) => {
        logger.error({ err: error, reason }, "config reload failed unexpectedly");
        return false;
      })
      .finally(() => {
        running = undefined;
        const queued = again && !closed;
        again = false;
        if (queued) void reload("changed during reload");
      });
    return running;
  }

  function schedule(file: string): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      // Errors are already logged inside reload; the watcher has nobody else to tell.
      void reload(`file changed: ${file}`);
    }, options.debounceMs);
  }

  const watcher = options.watch ? watchConfigDir(dir, logger, schedule) : undefined;

  return {
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
