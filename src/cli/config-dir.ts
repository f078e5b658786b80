import { statSync } from "node:fs";
import path from "node:path";
import { DIR } from "../defaults.js";
import { CONFIG_FOLDERS } from "../config/read.js";
import { InletError } from "../errors.js";

/**
 * The config folder a command works on: its argument, else INLET_DIR, else the working directory.
 * `given` names how the argument was given (an option such as "--dir"), for the error message.
 * A file there is refused here: the loader would report it as ENOTDIR under integrations/.
 */
export function configDir(argument: string | undefined, given?: string): string {
  const fromEnv = argument === undefined ? process.env["INLET_DIR"] || undefined : undefined;
  const dir = argument ?? fromEnv ?? DIR;
  if (isFile(dir)) {
    const named = fromEnv !== undefined ? `INLET_DIR=${dir}` : given === undefined ? dir : `${given} ${dir}`;
    throw new InletError(
      "config-dir-is-file",
      `${named} is a file, not the config directory (the folder holding ${CONFIG_FOLDERS.map((f) => `${f}/`).join(" and ")}): did you mean \`${likelyConfigDir(dir)}\`?`,
    );
  }
  return dir;
}

function isFile(candidate: string): boolean {
  try {
    return statSync(candidate).isFile();
  } catch {
    // Missing or unreadable: the loader reports it with the config's own diagnostics.
    return false;
  }
}

/**
 * The folder holding the config folders that `file` is in (a file under integrations/ is usually
 * given for the folder holding integrations/), else the folder `file` is in. Only the folder
 * itself and those up to the parent of its outermost integrations/ or workflows/ ancestor are
 * looked at: an unrelated config further up is not what was meant. Written as `file` was:
 * absolute for an absolute path, else relative to the working directory.
 */
function likelyConfigDir(file: string): string {
  const ancestors: string[] = [];
  for (let folder = path.dirname(path.resolve(file)); ; folder = path.dirname(folder)) {
    ancestors.push(folder);
    if (path.dirname(folder) === folder) break;
  }
  const outermost = ancestors.findLastIndex((folder) =>
    (CONFIG_FOLDERS as readonly string[]).includes(path.basename(folder)),
  );
  const found =
    ancestors
      .slice(0, outermost + 2)
      .find((folder) => CONFIG_FOLDERS.some((name) => isFolder(path.join(folder, name)))) ?? ancestors[0]!;
  return path.isAbsolute(file) ? found : path.relative(process.cwd(), found) || ".";
}

function isFolder(candidate: string): boolean {
  try {
    return statSync(candidate).isDirectory();
  } catch {
    return false;
  }
}
