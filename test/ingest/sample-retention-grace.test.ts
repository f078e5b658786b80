import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createConfigLoader } from "../../src/config/load.js";
import { buildSnapshot, type Snapshot, type SnapshotDeps } from "../../src/config/snapshot.js";
import { SnapshotHolder } from "../../src/config/snapshot-holder.js";
import { createReloader, type Reloader } from "../../src/config/watch.js";
import { SAMPLE_TRIM_GRACE_MS } from "../../src/defaults.js";
import { createSampleBuffer, type SampleBuffer } from "../../src/ingest/sample-buffer.js";
import { createMetrics } from "../../src/metrics.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { openStore } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/store.js";
import {
  ENDPOINT_A,
  ENDPOINT_B,
  integrationYaml,
  orderEvent,
  tempProject,
  type TempProject,
} from "../helpers/temp-project.js";

const FILE = "integrations/shop.yaml";
const loader = createConfigLoader(builtinRegistry);
const snapshotDeps = (): SnapshotDeps => ({ env: {}, jwtKey: null, requireSecrets: true });
const logger = pino({ level: "silent" });

const refunds = (samples: number) =>
  integrationYaml({ id: "refunds", endpoint: ENDPOINT_B, extra: `samples: ${samples}` });
const orders = (samples: number) =>
  integrationYaml({ id: "orders", endpoint: ENDPOINT_A, extra: `samples: ${samples}` });
/** One file holding both integrations, orders last. */
const both = (ordersSamples: number) => `${refunds(10)}\n---\n${orders(ordersSamples)}\n`;
/** What the watcher can read of `both` while an editor is still writing it: up to orders. */
const refundsOnly = `${refunds(10)}\n`;

interface Rig {
  readonly holder: SnapshotHolder;
  readonly store: Store;
  readonly buffer: SampleBuffer;
  /** Writes the config file and reloads it as the watcher would; the new config must be valid. */
  reload(text: string): Promise<void>;
  /** Records events `<integration>-<from>` to `-<to>` as requests would, and writes them. */
  receive(integration: string, from: number, to: number): Promise<void>;
  /** The event ids of the integration's stored samples, newest first, once queued writes and trims ran. */
  stored(integration: string): Promise<string[]>;
}

let project: TempProject | undefined;
let reloader: Reloader | undefined;
let rig: Rig | undefined;

/** Writes the project's config file and compiles it as a start or reload would. */
async function writeAndLoad(config: TempProject, text: string): Promise<Snapshot> {
  await config.write(FILE, text);
  const loaded = await loader.load(config.dir);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const built = buildSnapshot(loaded.config, snapshotDeps());
  if (!built.ok) throw new Error(JSON.stringify(built.diagnostics));
  return built.snapshot;
}

/** The sample buffer on a real SQLite file, fed by the real loader and reloader as the runtime wires them. */
async function startRig(text: string, options: { trimGraceMs?: number } = {}): Promise<Rig> {
  project = await tempProject();
  const holder = new SnapshotHolder(await writeAndLoad(project, text));
  const store = await openStore(`sqlite:${path.join(project.dir, "inlet.db")}`);
  const buffer = createSampleBuffer({
    store,
    intervalMs: 60_000,
    logger,
    keepNow: (integration) => holder.current.integrations.get(integration)?.samples ?? 0,
    trimGraceMs: options.trimGraceMs,
  });
  await buffer.retain(null, holder.current);
  reloader = createReloader({
    holder,
    loader,
    snapshotDeps,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    watch: false,
    debounceMs: 1,
    onSwap: (previous, next) => void buffer.retain(previous, next),
  });
  const config = project;
  const reloading = reloader;
  rig = {
    holder,
    store,
    buffer,
    async reload(next) {
      await config.write(FILE, next);
      expect(await reloading.reload("test")).toBe(true);
    },
    async receive(integration, from, to) {
      for (let n = from; n <= to; n += 1) {
        const event = { ...orderEvent(`${integration}-${n}`, String(n)), integration };
        buffer.record(event, holder.current.integrations.get(integration)?.samples ?? 0);
      }
      await buffer.flush();
    },
    async stored(integration) {
      await buffer.flush();
      return (await store.listSamples(integration)).map((sample) => sample.eventId);
    },
  };
  return rig;
}

const ids = (integration: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => `${integration}-${to - index}`);

beforeEach(() => {
  // Only the grace's timers: the store and the loader run on real time.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});

afterEach(async () => {
  vi.useRealTimers();
  reloader?.close();
  await rig?.buffer.stop();
  await rig?.store.close();
  project?.cleanup();
  reloader = undefined;
  rig = undefined;
  project = undefined;
});

describe("samples a reload stops keeping", () => {
  it("survive a half-written file that dropped their integration for a moment", async () => {
    const { reload, receive, stored } = await startRig(both(10));
    await receive("orders", 1, 3);

    await reload(refundsOnly);
    expect(await stored("orders")).toEqual(ids("orders", 1, 3));
    await reload(both(10));
    await vi.advanceTimersByTimeAsync(2 * SAMPLE_TRIM_GRACE_MS);

    expect(await stored("orders")).toEqual(ids("orders", 1, 3));
  });

  it("survive a count cut short for a moment, with the samples written meanwhile", async () => {
    const { reload, receive, stored } = await startRig(both(10));
    await receive("orders", 1, 3);

    // `samples: 10` caught as `samples: 1`.
    await reload(both(10).trimEnd().slice(0, -1));
    await receive("orders", 4, 4);
    expect(await stored("orders")).toEqual(ids("orders", 1, 4));
    await reload(both(10));
    await vi.advanceTimersByTimeAsync(2 * SAMPLE_TRIM_GRACE_MS);

    expect(await stored("orders")).toEqual(ids("orders", 1, 4));
  });

  it("are deleted once the removal or lowered count has held for the grace period, not before", async () => {
    const { reload, receive, stored } = await startRig(both(10));
    await receive("orders", 1, 3);
    await receive("refunds", 1, 3);

    await reload(orders(2));
    await vi.advanceTimersByTimeAsync(SAMPLE_TRIM_GRACE_MS - 1);
    expect(await stored("orders")).toEqual(ids("orders", 1, 3));
    expect(await stored("refunds")).toEqual(ids("refunds", 1, 3));

    await vi.advanceTimersByTimeAsync(1);
    expect(await stored("orders")).toEqual(ids("orders", 2, 3));
    expect(await stored("refunds")).toEqual([]);
  });

  it("wait a whole grace again when a later reload lowers their integration during a grace", async () => {
    const grace = 5_000;
    const { reload, receive, stored } = await startRig(both(10), { trimGraceMs: grace });
    await receive("orders", 1, 8);

    await reload(both(5));
    await vi.advanceTimersByTimeAsync(grace - 1);
    // Caught half-written just before the first grace ends, and whole again just after.
    await reload(refundsOnly);
    await vi.advanceTimersByTimeAsync(1);
    expect(await stored("orders")).toEqual(ids("orders", 1, 8));
    await reload(both(5));
    await vi.advanceTimersByTimeAsync(2 * grace);

    expect(await stored("orders")).toEqual(ids("orders", 4, 8));
  });

  it("are not deleted by a stop, which leaves no timer; the next start deletes them at once", async () => {
    const { reload, receive, stored, buffer, store } = await startRig(both(10));
    await receive("orders", 1, 3);

    await reload(refundsOnly);
    await buffer.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * SAMPLE_TRIM_GRACE_MS);
    expect(await stored("orders")).toEqual(ids("orders", 1, 3));

    const restarted = createSampleBuffer({ store, intervalMs: 60_000, logger, keepNow: () => 10 });
    await restarted.retain(null, await writeAndLoad(project!, refundsOnly));
    await restarted.stop();
    expect(await store.listSamples("orders")).toEqual([]);
  });

  it("wait on a timer that does not keep the process alive", async () => {
    vi.useRealTimers();
    const { holder, buffer, receive, stored } = await startRig(both(10));
    await receive("orders", 1, 3);
    const next = await writeAndLoad(project!, refundsOnly);
    const keepingAlive = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

    // Counted in one synchronous stretch: no other timer of the process comes or goes in between.
    const before = keepingAlive();
    const retained = buffer.retain(holder.current, next);
    expect(keepingAlive()).toBe(before);
    await retained;
    expect(await stored("orders")).toEqual(ids("orders", 1, 3));
  });
});
