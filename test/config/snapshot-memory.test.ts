import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { createConfigLoader } from "../../src/config/load.js";
import { buildSnapshot } from "../../src/config/snapshot.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { ENDPOINT_A, tempProject, type TempProject } from "../helpers/temp-project.js";

// A full garbage collection on demand, so the test sees what a snapshot still holds.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

let project: TempProject | undefined;
afterEach(() => project?.cleanup());

/** Loads the config and returns only its compiled workflows, with a weak reference to a parsed document. */
async function loadKeepingWorkflows(dir: string) {
  const loaded = await createConfigLoader(builtinRegistry).load(dir);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const source = loaded.config.set.workflows[0]!.source;
  return { kept: loaded.config.workflows, document: new WeakRef(source.document) };
}

describe("a loaded config's memory", () => {
  it("lets the parsed YAML go once its workflows are compiled (10,000 workflows kept ~70 MB of it)", async () => {
    project = await tempProject({
      "integrations/shop.yaml": `kind: Integration\nid: shop\nendpoint: ${ENDPOINT_A}\nauth:\n  type: none\n`,
      "workflows/forward.yaml": [
        "kind: Workflow",
        "id: forward",
        "trigger: { type: business-event, integration: shop }",
        "nodes:",
        "  - id: send",
        "    type: outgoing-integration",
        "    method: POST",
        '    url: "https://example.com/{{ request.body.id }}"',
        "",
      ].join("\n"),
    });
    // What a snapshot keeps of the load is the compiled workflows; the rest goes.
    const { kept, document } = await loadKeepingWorkflows(project.dir);
    // A WeakRef holds its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(document.deref()).toBeUndefined();
    expect(kept.get("forward")?.nodes.size).toBe(1);
  });

  it("keeps a few KB for each of thousands of generated integrations with their workflows", async () => {
    const count = 2_000;
    const integrations: string[] = [];
    const workflows: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const endpoint = `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
      integrations.push(
        `kind: Integration\nid: shop-${i}\nendpoint: ${endpoint}\nauth: { type: none }\ndedup: { params: [body.order] }\n`,
      );
      workflows.push(
        [
          "kind: Workflow",
          `id: forward-${i}`,
          `trigger: { type: business-event, integration: shop-${i} }`,
          "nodes:",
          "  - id: send",
          "    type: outgoing-integration",
          "    method: POST",
          '    url: "https://example.com/{{ request.body.id }}"',
          '    body: { id: "{{ request.eventId }}", email: "{{ request.body.email }}" }',
          "",
        ].join("\n"),
      );
    }
    project = await tempProject({
      "integrations/all.yaml": integrations.join("---\n"),
      "workflows/all.yaml": workflows.join("---\n"),
    });
    const loader = createConfigLoader(builtinRegistry);
    const loadSnapshot = async () => {
      const loaded = await loader.load(project!.dir);
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
      const built = buildSnapshot(loaded.config, { env: {}, jwtKey: null, requireSecrets: true });
      if (!built.ok) throw new Error(JSON.stringify(built.diagnostics));
      return built.snapshot;
    };
    // What a job's awaits resolved to is let go only when the job ends.
    const settledHeap = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    // The first load compiles the code it runs; the second is measured.
    await loadSnapshot();
    const before = await settledHeap();
    const snapshot = await loadSnapshot();
    const perIntegration = ((await settledHeap()) - before) / count;
    expect(snapshot.integrations.size).toBe(count);
    // ~2.3 KB measured; ~5.8 KB when each compiled template kept its compiler and the YAML text.
    expect(perIntegration).toBeLessThan(4_096);
  });
});
