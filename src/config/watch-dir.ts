import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { CONFIG_FOLDERS } from "./read.js";

type ConfigFolder = (typeof CONFIG_FOLDERS)[number];

/**
 * Watches each config folder recursively, and INLET_DIR itself not recursively: fs.watch follows
 * the inode, so a folder replaced (renamed over, deleted and copied back) or created after the
 * start is only seen through its parent. INLET_DIR is not watched recursively because the
 * store's database may live under it, and its writes must not wake the watcher.
 */
export function watchConfigDir(
  dir: string,
  logger: Logger,
  onChange: (file: string) => void,
): { close(): void } {
  const folderWatchers = new Map<ConfigFolder, FSWatcher>();
  let closed = false;

  /** (Re)creates a folder's watcher; an absent folder gets one when the root watcher sees it appear. */
  function watchFolder(folder: ConfigFolder): void {
    folderWatchers.get(folder)?.close();
    folderWatchers.delete(folder);
    const folderPath = path.join(dir, folder);
    let watcher: FSWatcher;
    try {
      watcher = watch(folderPath, { recursive: true }, (_event, file) =>
        onChange(file ? path.join(folder, String(file)) : folder),
      );
    } catch (error) {
      logFolderUnwatched(logger, folderPath, error);
      return;
    }
    watcher.on("error", (error) => {
      if (closed || folderWatchers.get(folder) !== watcher) return;
      // A failed watcher is dead: without a new one this folder's edits would go unseen.
      logger.warn({ err: error, folder: folderPath }, "config watcher error; watching the folder again");
      watchFolder(folder);
      onChange(folder);
    });
    folderWatchers.set(folder, watcher);
  }

  function onRootEntry(name: string | null): void {
    // Every entry of INLET_DIR is reported (a database file may be one): only the folders count.
    const folder = CONFIG_FOLDERS.find((candidate) => candidate === name);
    if (!folder || closed) return;
    // Watch first, then reload: whatever lands in the folder after that load is then seen.
    watchFolder(folder);
    onChange(folder);
  }

  let rootWatcher: FSWatcher | undefined;
  try {
    rootWatcher = watch(dir, (_event, name) => onRootEntry(name));
    rootWatcher.on("error", (error) =>
      logger.warn({ err: error, dir }, "config directory watcher error; a replaced folder needs SIGHUP"),
    );
  } catch (error) {
    logger.warn({ err: error, dir }, "cannot watch the config directory; a replaced folder needs SIGHUP");
  }
  for (const folder of CONFIG_FOLDERS) watchFolder(folder);

  return {
    close() {
      closed = true;
      rootWatcher?.close();
      for (const watcher of folderWatchers.values()) watcher.close();
      folderWatchers.clear();
    },
  };
}

function logFolderUnwatched(logger: Logger, folder: string, error: unknown): void {
  // An absent folder is a valid config (SPEC 1), not a problem.
  if ((error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    logger.debug({ folder }, "config folder absent; watching for it to appear");
  } else {
    logger.warn({ err: error, folder }, "cannot watch config folder; SIGHUP still reloads");
  }
}
