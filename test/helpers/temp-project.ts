import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { IncomingEvent } from "../../src/ingest/event.js";

export interface TempProject {
  readonly dir: string;
  write(file: string, text: string): Promise<void>;
  /** Writes through a temporary file and a rename, as editors' "safe write" does. */
  writeAtomically(file: string, text: string): Promise<void>;
  remove(file: string): Promise<void>;
  cleanup(): void;
}

/** A config folder in a temp dir, written from YAML text: the way users give Inlet its config. */
export async function tempProject(files: Readonly<Record<string, string>> = {}): Promise<TempProject> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "inlet-test-"));
  await mkdir(path.join(dir, "integrations"), { recursive: true });
  await mkdir(path.join(dir, "workflows"), { recursive: true });
  const project: TempProject = {
    dir,
    async write(file, text) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    },
    async writeAtomically(file, text) {
      const target = path.join(dir, file);
      const temporary = path.join(path.dirname(target), `.${path.basename(target)}.tmp`);
      await writeFile(temporary, text);
      await rename(temporary, target);
    },
    async remove(file) {
      await rm(path.join(dir, file));
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [file, text] of Object.entries(files)) await project.write(file, text);
  return project;
}

export const ENDPOINT_A = "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11";
export const ENDPOINT_B = "7b1e9f00-2c3d-4e5f-8a9b-0c1d2e3f4a5b";

export function integrationYaml(options: {
  id: string;
  endpoint: string;
  extra?: string;
  auth?: string;
}): string {
  return [
    "kind: Integration",
    `id: ${options.id}`,
    `endpoint: ${options.endpoint}`,
    "auth:",
    options.auth ?? "  type: none",
    options.extra ?? "",
  ].join("\n");
}

/** An event of integration `orders` at ENDPOINT_A, as the ingress records it, with body `{ id: orderId }`. */
export function orderEvent(eventId: string, orderId: string): IncomingEvent {
  return {
    eventId,
    integration: "orders",
    endpointId: ENDPOINT_A,
    method: "POST",
    time: Date.now(),
    headers: {},
    query: {},
    body: { id: orderId },
  };
}
