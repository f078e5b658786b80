import { readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { CONFIG_FOLDERS } from "./read.js";

interface FolderWatch {
  readonly watcher: FSWatcher;
  /** The folder it was created on: a folder replaced under the same name is another one. */
  readonly identity: string;
}

/**
 * Watches every folder of the config folders, each with a watcher of its own, and INLET_DIR itself
 * for its entries. Not fs.watch's `recursive` option: on Linux, Node 20 implements it with a
 * watcher per file, on the file's inode, so a file replaced by a rename (git checkout, sed -i, an
 * editor saving through a temporary file) went unseen from then on. A folder's own watcher reports
 * each entry in it by name, whatever replaced it. A folder created, replaced (renamed over, deleted
 * and copied back) or removed shows as a "rename" event in its parent's watcher: the watchers of
 * that path and below are dropped (a folder re-created at once may get the old inode number back,
 * so the inode alone cannot tell), and the folders are walked again. A walk that added a watcher
 * is followed by another, for a subfolder made before that watcher started. A file's own edits
 * ("change") need no walk. INLET_DIR is not walked: the store's database may live in it, and only
 * its config folders count. The walk follows what the loader reads (read.ts): symbolic links
 * followed, names starting with "." skipped.
 */
export function watchConfigDir(
  dir: string,
  logger: Logger,
  onChange: (file: string) => void,
): { close(): void } {
  const watches = new Map<string, FolderWatch>();
  let closed = false;
  let walkPending: NodeJS.Immediate | null = null;

  function watchFolder(folder: string, identity: string): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(folder, (event, name) => {
        const entry = name ? path.join(folder, String(name)) : folder;
        onChange(path.relative(dir, entry));
        if (event === "rename") replaced(entry);
      });
    } catch (error) {
      logFolderUnwatched(logger, folder, error);
      return;
    }
    watcher.on("error", (error) => {
      if (closed || watches.get(folder)?.watcher !== watcher) return;
      // A failed watcher is dead: without a new one this folder's edits would go unseen.
      logger.warn({ err: error, folder }, "config watcher error; watching the folder again");
      replaced(folder);
      onChange(path.relative(dir, folder));
    });
    watches.set(folder, { watcher, identity });
  }

  function unwatch(folder: string): void {
    watches.get(folder)?.watcher.close();
    watches.delete(folder);
  }

  /** `entry` may be a folder created, replaced or removed: its watchers and those below go, and a walk follows. */
  function replaced(entry: string): void {
    for (const folder of [...watches.keys()]) {
      if (folder === entry || folder.startsWith(`${entry}${path.sep}`)) unwatch(folder);
    }
    walkSoon();
  }

  /** Watches each config folder as it is now, and stops watching what is gone or was replaced. */
  function walk(): void {
    const present = new Map<string, string>();
    for (const folder of CONFIG_FOLDERS) collectFolders(path.join(dir, folder), present, new Set(), logger);
    for (const [folder, current] of [...watches]) {
      if (present.get(folder) !== current.identity) unwatch(folder);
    }
    let added = false;
    for (const [folder, identity] of present) {
      if (watches.has(folder)) continue;
      watchFolder(folder, identity);
      added = true;
    }
    // A subfolder made in a new folder before its watcher started is reported to no one.
    if (added) walkSoon();
  }

  // In the turn of the event, before the debounced reload reads the files: what lands in a new
  // folder after that read is then seen.
  function walkSoon(): void {
    walkPending ??= setImmediate(() => {
      walkPending = null;
      if (!closed) walk();
    });
  }

  let rootWatcher: FSWatcher | undefined;
  try {
    rootWatcher = watch(dir, (_event, name) => {
      // Every entry of INLET_DIR is reported (a database file may be one): only the folders count.
      const folder = CONFIG_FOLDERS.find((candidate) => candidate === String(name));
      if (!folder || closed) return;
      replaced(path.join(dir, folder));
      onChange(folder);
    });
    rootWatcher.on("error", (error) =>
      logger.warn({ err: error, dir }, "config directory watcher error; a replaced folder needs SIGHUP"),
    );
  } catch (error) {
    logger.warn({ err: error, dir }, "cannot watch the config directory; a replaced folder needs SIGHUP");
  }
  walk();

  return {
    close() {
      closed = true;
      if (walkPending) clearImmediate(walkPending);
      rootWatcher?.close();
      for (const { watcher } of watches.values()) watcher.close();
      watches.clear();
    },
  };
}

/**
 * Adds `folder` and the folders under it to `into` (path → device and inode), unless absent; a
 * folder reached twice through links is taken once.
 */
function collectFolders(folder: string, into: Map<string, string>, seen: Set<string>, logger: Logger): void {
  let identity: string;
  let entries;
  try {
    const stats = statSync(folder);
    if (!stats.isDirectory()) return;
    identity = `${stats.dev}:${stats.ino}`;
    if (seen.has(identity)) return;
    seen.add(identity);
    entries = readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    logFolderUnwatched(logger, folder, error);
    return;
  }
  into.set(folder, identity);
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    if (entry.isDirectory() || entry.isSymbolicLink()) {
      collectFolders(path.join(folder, entry.name), into, seen, logger);
    }
  }
}

/** An absent folder, one removed mid-walk, a link to nothing or to itself: the loader skips them too. */
const UNWATCHABLE_QUIETLY = new Set(["ENOENT", "ENOTDIR", "ELOOP"]);

function logFolderUnwatched(logger: Logger, folder: string, error: unknown): void {
  // An absent config folder is a valid config (SPEC 1), not a problem.
  if (UNWATCHABLE_QUIETLY.has((error as NodeJS.ErrnoException | undefined)?.code ?? "")) {
    logger.debug({ folder }, "config folder absent; watching for it to appear");
  } else {
    logger.warn({ err: error, folder }, "cannot watch config folder; SIGHUP still reloads");
  }
}
