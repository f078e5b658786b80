import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import type { Diagnostic } from "./diagnostics.js";
import type { DocumentSource } from "./positions.js";

/** The folders of a config directory that hold documents (SPEC 1). */
export const CONFIG_FOLDERS = ["integrations", "workflows"] as const;
const YAML_FILE = /\.ya?ml$/;
/** Bounds alias expansion, so a "billion laughs" file cannot exhaust memory. */
const MAX_ALIAS_COUNT = 100;

/** One parsed document with its plain JS value. */
export interface ParsedDocument extends DocumentSource {
  readonly index: number;
  readonly value: unknown;
}

export interface ReadResult {
  readonly files: readonly string[];
  readonly documents: readonly ParsedDocument[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Reads every *.yaml / *.yml under the config folders of `dir` (recursively, in a stable order)
 * and parses each (multi-document) file. Files are named relative to the working directory,
 * as editors and CI annotations expect.
 */
export async function readConfigDir(dir: string): Promise<ReadResult> {
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  if ((await stat(dir).catch(() => undefined))?.isFile()) {
    // Said once, not as ENOTDIR under each config folder it cannot hold.
    const message = `this is a file, not the config directory (the folder holding ${CONFIG_FOLDERS.join("/ and ")}/)`;
    diagnostics.push({ file: displayPath(dir), line: 1, col: 1, code: "io", severity: "error", message });
    return { files, documents: [], diagnostics };
  }
  let foldersFound = 0;
  for (const folder of CONFIG_FOLDERS) {
    const found = await listYamlFiles(path.join(dir, folder), diagnostics);
    if (found) {
      foldersFound += 1;
      files.push(...found);
    }
  }
  if (foldersFound === 0) {
    diagnostics.push({
      file: displayPath(dir),
      line: 1,
      col: 1,
      code: "io",
      severity: "error",
      message: `no ${CONFIG_FOLDERS.join("/ or ")}/ folder here: is this the config directory (INLET_DIR)?`,
    });
  }
  const documents: ParsedDocument[] = [];
  for (const absolute of files) {
    const file = displayPath(absolute);
    let text: string;
    try {
      text = await readFile(absolute, "utf8");
    } catch (error) {
      // A file removed between listing and reading (an editor's rename-on-save) is reported, not fatal.
      diagnostics.push({ file, line: 1, col: 1, code: "io", severity: "error", message: String(error) });
      continue;
    }
    const parsed = parseFile(file, text);
    documents.push(...parsed.documents);
    diagnostics.push(...parsed.diagnostics);
  }
  return { files: files.map(displayPath), documents, diagnostics };
}

export function parseFile(
  file: string,
  text: string,
): { documents: ParsedDocument[]; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const documents: ParsedDocument[] = [];
  parseAllDocuments(text, { lineCounter, prettyErrors: false }).forEach((document, index) => {
    if (!("errors" in document)) return;
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const pos = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
        diagnostics.push({
          file,
          line: pos.line,
          col: pos.col,
          code: "yaml-syntax",
          severity: "error",
          message: error.message.split("\n")[0] ?? error.message,
        });
      }
      return;
    }
    let value: unknown;
    try {
      // Cloned so that its strings are copies: the parser's are slices of the file's text, and
      // one kept by a snapshot (an id, a node type) would keep the whole file in memory.
      value = structuredClone(document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (error) {
      const pos = lineCounter.linePos(document.contents?.range?.[0] ?? 0);
      diagnostics.push({ file, ...pos, code: "yaml-syntax", severity: "error", message: String(error) });
      return;
    }
    // An empty document (a file ending in `---`, as generators write them, or only comments)
    // holds nothing; the parser gives it a null scalar, not null contents.
    if (value === null || value === undefined) return;
    documents.push({ file, document, lineCounter, index, value });
  });
  return { documents, diagnostics };
}

/**
 * The YAML files under `dir`, recursively, in a stable order; undefined when `dir` does not exist.
 * Symbolic links are followed (a Kubernetes ConfigMap mounts each file as one), a folder reached
 * twice is read once, and a name starting with "." is skipped, folders too (editors' backups, and
 * the ConfigMap's hidden copies of the files its links point to). What cannot be read is reported.
 */
async function listYamlFiles(dir: string, diagnostics: Diagnostic[]): Promise<string[] | undefined> {
  const files: string[] = [];
  const visited = new Set<string>();
  const report = (where: string, error: unknown): void => {
    diagnostics.push({
      file: displayPath(where),
      line: 1,
      col: 1,
      code: "io",
      severity: "error",
      message: String(error),
    });
  };

  async function walk(folder: string): Promise<void> {
    const real = await realpath(folder);
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(folder, entry.name);
      const target = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
      if (target === undefined) {
        if (YAML_FILE.test(entry.name)) report(full, new Error("a symbolic link to nothing"));
      } else if (target.isDirectory()) {
        await walk(full).catch((error: unknown) => report(full, error));
      } else if (target.isFile() && YAML_FILE.test(entry.name)) {
        files.push(full);
      }
    }
  }

  try {
    await walk(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    report(dir, error);
  }
  return files.sort();
}

function displayPath(absolute: string): string {
  const relative = path.relative(process.cwd(), absolute);
  return relative === "" ? "." : relative.startsWith("..") ? absolute : relative;
}
