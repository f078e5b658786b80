import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WorkflowDoc } from "../../src/config/documents.js";
import { compileWorkflow } from "../../src/engine/compile-workflow.js";
import { executeRun } from "../../src/engine/execute-run.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { createCannedTransport } from "../../src/workflow-tests/canned-transport.js";

describe("end", () => {
  it("ends its branch: the node after it in the list does not run", async () => {
    const doc = parse(`
kind: Workflow
id: ending
trigger: { type: business-event, integration: shop-cart }
nodes:
  - id: pick
    type: condition
    if: request.body.stop
    then: stop
    else: go
  - id: stop
    type: end
  - id: go
    type: set
    values: { went: true }
`) as WorkflowDoc;
    const workflow = compileWorkflow(doc, { registry: builtinRegistry });
    const ran: string[] = [];
    const outcome = await executeRun({
      workflow,
      event: {
        eventId: "e",
        integration: "shop-cart",
        endpointId: "x",
        method: "POST",
        time: 0,
        headers: {},
        query: {},
        body: { stop: true },
      },
      runId: "r",
      http: createCannedTransport({}),
      env: {},
      signal: new AbortController().signal,
      onNode: async (record) => {
        if (record.status === "succeeded") ran.push(record.id);
      },
    });
    expect(outcome).toEqual({ status: "succeeded", error: null, vars: {} });
    expect(ran).toEqual(["pick", "stop"]);
  });
});
