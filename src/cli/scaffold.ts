import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { DOC_KINDS, type DocKind } from "../config/documents.js";
import { locate } from "../config/positions.js";
import { readConfigDir } from "../config/read.js";
import { InletError } from "../errors.js";

/** The kinds whose documents have an id; ids are unique per kind across all files (SPEC 2). */
export type IdKind = Exclude<DocKind, "WorkflowTest">;

/** The ids a config folder's documents declare, per kind, each with the file:line:col declaring it first. */
export interface DeclaredIds {
  readonly byKind: ReadonlyMap<IdKind, ReadonlyMap<string, string>>;
  /** Files (or folders) that could not be read or do not parse: the ids they hold could not be seen. */
  readonly unchecked: readonly string[];
}

/**
 * Reads through the loader's read stage, not `load()`: load() yields only diagnostics as soon as
 * any document is invalid, and one broken file must not make scaffolding unusable. A document
 * counts by its `kind` and `id` even when it breaks its schema, as it clashes once it is fixed.
 */
export async function readDeclaredIds(dir: string): Promise<DeclaredIds> {
  const read = await readConfigDir(dir);
  const byKind = new Map<IdKind, Map<string, string>>();
  for (const source of read.documents) {
    const { value } = source;
    if (typeof value !== "object" || value === null || !("kind" in value) || !("id" in value)) continue;
    const kind = DOC_KINDS.find((known) => known === value.kind);
    if (kind === undefined || kind === "WorkflowTest" || typeof value.id !== "string") continue;
    const ids = byKind.get(kind) ?? new Map<string, string>();
    byKind.set(kind, ids);
    if (ids.has(value.id)) continue;
    const { line, col } = locate(source, ["id"]);
    ids.set(value.id, `${source.file}:${line}:${col}`);
  }
  // Every read problem but the folder's own "no integrations/ or workflows/ here": a new folder has none yet.
  const unchecked = read.diagnostics
    .filter((d) => path.resolve(d.file) !== path.resolve(dir))
    .map((d) => d.file);
  return { byKind, unchecked: [...new Set(unchecked)] };
}

/** Refuses an id another document of its kind declares, as `inlet validate` would. */
export function refuseDeclaredId(declared: DeclaredIds, kind: IdKind, id: string): void {
  const at = declared.byKind.get(kind)?.get(id);
  if (at !== undefined) {
    throw new InletError(
      "duplicate-id",
      `${kind} "${id}" already exists at ${at}: choose another id, or remove that document first`,
    );
  }
}

/** Refuses a reference to an id no document of `kind` declares, as `inlet validate` would. */
export function requireDeclaredId(
  declared: DeclaredIds,
  reference: { kind: IdKind; id: string; createWith: string },
): void {
  const { kind, id, createWith } = reference;
  const ids = declared.byKind.get(kind);
  if (ids?.has(id)) return;
  const create =
    declared.unchecked.length === 0
      ? `create it first with \`${createWith}\``
      : `it may be in ${declared.unchecked.join(", ")} (unreadable or not parsing): fix that first, or create it with \`${createWith}\``;
  throw new InletError(
    "unknown-ref",
    ids === undefined
      ? `no ${kind} "${id}": the config folder declares no ${kind} yet; ${create}`
      : `no ${kind} "${id}" (known: ${[...ids.keys()].sort().join(", ")}): name a known one, or ${create}`,
  );
}

/** YAML text of the documents `inlet new` and `inlet apikey new` write. */
export function integrationYaml(options: { id: string; auth: "none" | "jwt"; apiKey?: string }): string {
  const auth =
    options.auth === "jwt" ? `  type: jwt\n  apiKey: ${quote(options.apiKey)}\n` : "  type: none\n";
  return [
    "# yaml-language-server: $schema=../schemas/integration.schema.json",
    "kind: Integration",
    `id: ${quote(options.id)}`,
    `name: ${quote(options.id)}`,
    `endpoint: ${randomUUID()}`,
    "auth:",
    auth.trimEnd(),
    "",
  ].join("\n");
}

export function workflowYaml(options: { id: string; integration: string }): string {
  return [
    "# yaml-language-server: $schema=../schemas/workflow.schema.json",
    "kind: Workflow",
    `id: ${quote(options.id)}`,
    "trigger:",
    "  type: business-event",
    `  integration: ${quote(options.integration)}`,
    "nodes:",
    "  - id: send",
    "    type: outgoing-integration",
    "    method: POST",
    "    # The receiver's URL, from the environment the server runs in: set TARGET_URL there.",
    '    url: "{{ env.TARGET_URL }}"',
    "    body:",
    '      eventId: "{{ request.eventId }}"',
    '      data: "{{ request.body }}"',
    "  - id: done",
    "    type: end",
    "",
  ].join("\n");
}

export function apiKeyYaml(options: { id: string; secretHash: string }): string {
  return [
    "# yaml-language-server: $schema=../schemas/apikey.schema.json",
    "kind: ApiKey",
    `id: ${quote(options.id)}`,
    `secretHash: ${options.secretHash}`,
    "permissions: [incoming]",
    "",
  ].join("\n");
}

/** Writes a new document file; an existing file is never overwritten. */
export async function writeNewFile(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, text, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new InletError("file-exists", `${file} already exists; choose another id or remove the file`);
    }
    throw error;
  }
}

/** An id such as `123` or `null` is a valid id but not a YAML string unless quoted. */
function quote(value: string | undefined): string {
  return JSON.stringify(value ?? "");
}
