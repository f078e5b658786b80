import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { InletError } from "../errors.js";

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
