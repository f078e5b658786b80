import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { createConfigLoader } from "../../src/config/load.js";
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
});
