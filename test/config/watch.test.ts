import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cp, mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createConfigLoader, type ConfigLoader } from "../../src/config/load.js";
import { buildSnapshot, type SnapshotDeps } from "../../src/config/snapshot.js";
import { SnapshotHolder } from "../../src/config/snapshot-holder.js";
import { createReloader, type Reloader } from "../../src/config/watch.js";
import { createMetrics } from "../../src/metrics.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { eventually } from "../helpers/eventually.js";
import {
  ENDPOINT_A,
  ENDPOINT_B,
  integrationYaml,
  tempProject,
  type TempProject,
} from "../helpers/temp-project.js";

const ENDPOINT_C = "c0ffee00-1234-4abc-8def-0123456789ab";
const snapshotDeps = (): SnapshotDeps => ({ env: {}, jwtKey: null, requireSecrets: true });
const realLoader = createConfigLoader(builtinRegistry);

let project: TempProject | undefined;
let reloader: Reloader | undefined;

afterEach(() => {
  reloader?.close();
  reloader = undefined;
  project?.cleanup();
  project = undefined;
});

/** A reloader on the project's config as it is now, with the real loader unless one is given. */
async function startReloader(
  dir: string,
  options: { watch: boolean; loader?: ConfigLoader },
): Promise<{ holder: SnapshotHolder; reloader: Reloader }> {
  const loaded = await realLoader.load(dir);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const built = buildSnapshot(loaded.config, snapshotDeps());
  if (!built.ok) throw new Error(JSON.stringify(built.diagnostics));
  const holder = new SnapshotHolder(built.snapshot);
  reloader = createReloader({
    holder,
    loader: options.loader ?? realLoader,
    snapshotDeps,
    logger: pino({ level: "silent" }),
    metrics: createMetrics({ defaultMetrics: false }),
    watch: options.watch,
    debounceMs: 1,
  });
  return { holder, reloader };
}

/** Waits until the watcher has loaded integration `id` by itself. */
async function loadedIntegration(holder: SnapshotHolder, id: string): Promise<void> {
  await eventually(() => expect([...holder.current.integrations.keys()]).toContain(id));
}

/** A loader that counts its loads and holds each one until `release()`. */
function gatedLoader(): ConfigLoader & { loads: number; release(): void } {
  let open: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const loader = {
    loads: 0,
    async load(dir: string) {
      loader.loads += 1;
      await gate;
      return realLoader.load(dir);
    },
    release() {
      open();
      gate = Promise.resolve();
    },
  };
  return loader;
}

describe("the config watcher", () => {
  it("keeps reloading after integrations/ is replaced by a rename", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
      "integrations.new/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
      "integrations.new/b.yaml": integrationYaml({ id: "b", endpoint: ENDPOINT_B }),
    });
    const { holder } = await startReloader(project.dir, { watch: true });
    const folder = path.join(project.dir, "integrations");

    await rename(folder, `${folder}.old`);
    await rename(`${folder}.new`, folder);
    await loadedIntegration(holder, "b");

    // The watcher must now follow the new folder, not the old one it was created on.
    await project.write("integrations/c.yaml", integrationYaml({ id: "c", endpoint: ENDPOINT_C }));
    await loadedIntegration(holder, "c");
  });

  it("keeps reloading after integrations/ is deleted and copied back", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
      "backup/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    });
    const { holder } = await startReloader(project.dir, { watch: true });
    const folder = path.join(project.dir, "integrations");

    await rm(folder, { recursive: true });
    await cp(path.join(project.dir, "backup"), folder, { recursive: true });
    await project.write("integrations/b.yaml", integrationYaml({ id: "b", endpoint: ENDPOINT_B }));
    await loadedIntegration(holder, "b");
  });

  it("loads a config folder created after the start", async () => {
    project = await tempProject();
    await rm(path.join(project.dir, "integrations"), { recursive: true });
    const { holder } = await startReloader(project.dir, { watch: true });

    await mkdir(path.join(project.dir, "integrations"));
    await writeFile(
      path.join(project.dir, "integrations/a.yaml"),
      integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    );
    await loadedIntegration(holder, "a");
  });

  // git checkout, sed -i and editors' safe write all put a new file where the old one was.
  it("keeps seeing a file's edits after it was replaced by a rename, in-place writes too", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
      "integrations/team/b.yaml": integrationYaml({ id: "b", endpoint: ENDPOINT_B }),
    });
    const { holder } = await startReloader(project.dir, { watch: true });

    await project.writeAtomically("integrations/a.yaml", integrationYaml({ id: "a2", endpoint: ENDPOINT_A }));
    await loadedIntegration(holder, "a2");
    await project.write("integrations/a.yaml", integrationYaml({ id: "a3", endpoint: ENDPOINT_A }));
    await loadedIntegration(holder, "a3");

    await project.writeAtomically(
      "integrations/team/b.yaml",
      integrationYaml({ id: "b2", endpoint: ENDPOINT_B }),
    );
    await loadedIntegration(holder, "b2");
    await project.write("integrations/team/b.yaml", integrationYaml({ id: "b3", endpoint: ENDPOINT_B }));
    await loadedIntegration(holder, "b3");
  });

  it("sees edits in a folder created after the start, and in one replaced under the same name", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
      "backup/team/b.yaml": integrationYaml({ id: "b", endpoint: ENDPOINT_B }),
    });
    const { holder } = await startReloader(project.dir, { watch: true });

    await mkdir(path.join(project.dir, "integrations/new"));
    await project.write("integrations/new/c.yaml", integrationYaml({ id: "c", endpoint: ENDPOINT_C }));
    await loadedIntegration(holder, "c");
    await project.write("integrations/new/c.yaml", integrationYaml({ id: "c2", endpoint: ENDPOINT_C }));
    await loadedIntegration(holder, "c2");

    // Replaced as a deploy does it: the new folder made beside, the old one moved away.
    await cp(path.join(project.dir, "backup/team"), path.join(project.dir, "team.next"), { recursive: true });
    await rename(path.join(project.dir, "integrations/new"), path.join(project.dir, "team.old"));
    await rename(path.join(project.dir, "team.next"), path.join(project.dir, "integrations/new"));
    await loadedIntegration(holder, "b");
    await project.write("integrations/new/b.yaml", integrationYaml({ id: "b2", endpoint: ENDPOINT_B }));
    await loadedIntegration(holder, "b2");
  });

  it("sees edits in a folder deleted and made again at once (which may get its old inode back)", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
      "integrations/team/b.yaml": integrationYaml({ id: "b", endpoint: ENDPOINT_B }),
    });
    const { holder } = await startReloader(project.dir, { watch: true });
    const team = path.join(project.dir, "integrations/team");

    for (const id of ["b2", "b3", "b4"]) {
      // In one step, as `rm -rf team && cp -r backup/team team` runs while the server is busy.
      rmSync(team, { recursive: true });
      mkdirSync(team);
      writeFileSync(path.join(team, "b.yaml"), integrationYaml({ id: `${id}x`, endpoint: ENDPOINT_B }));
      await loadedIntegration(holder, `${id}x`);
      await project.write("integrations/team/b.yaml", integrationYaml({ id, endpoint: ENDPOINT_B }));
      await loadedIntegration(holder, id);
    }
  });

  it("starts no reload queued during a running one once closed", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    });
    const loader = gatedLoader();
    const { reloader: started } = await startReloader(project.dir, { watch: false, loader });

    const running = started.reload("first");
    void started.reload("queued");
    started.close();
    loader.release();
    await running;
    // A queued reload starts from the running one's end, so it would have called the loader by now.
    expect(loader.loads).toBe(1);
    expect(await started.reload("after close")).toBe(false);
    expect(loader.loads).toBe(1);
  });

  it("does not swap the config when closed while a reload loads it", async () => {
    project = await tempProject({
      "integrations/a.yaml": integrationYaml({ id: "a", endpoint: ENDPOINT_A }),
    });
    const loader = gatedLoader();
    const { holder, reloader: started } = await startReloader(project.dir, { watch: false, loader });
    const before = holder.current;
    await project.write("integrations/b.yaml", integrationYaml({ id: "b", endpoint: ENDPOINT_B }));

    const running = started.reload("edit");
    started.close();
    loader.release();
    expect(await running).toBe(false);
    expect(holder.current).toBe(before);
  });
});
