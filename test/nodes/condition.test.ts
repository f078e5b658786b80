import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WorkflowDoc } from "../../src/config/documents.js";
import { compileWorkflow } from "../../src/engine/compile-workflow.js";
import { executeRun } from "../../src/engine/execute-run.js";
import type { IncomingEvent } from "../../src/ingest/event.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { createCannedTransport } from "../../src/workflow-tests/canned-transport.js";

// The branches are set nodes, so the chosen path shows in the run's vars without any network.
async function runCondition(condition: string, body: unknown, options: { strict?: boolean } = {}) {
  const doc = parse(`
kind: Workflow
id: branching
strict: ${options.strict ?? false}
trigger: { type: business-event, integration: shop-cart }
nodes:
  - id: check
    type: condition
    if: ${JSON.stringify(condition)}
    then: yes
    else: no
  - id: yes
    type: set
    values: { branch: then }
    next: done
  - id: no
    type: set
    values: { branch: else }
  - id: done
    type: end
`) as WorkflowDoc;
  const event: IncomingEvent = {
    eventId: "ev-1",
    integration: "shop-cart",
    endpointId: "e",
    method: "POST",
    time: Date.now(),
    headers: {},
    query: {},
    body,
  };
  const outputs: Record<string, unknown> = {};
  const outcome = await executeRun({
    workflow: compileWorkflow(doc, { registry: builtinRegistry }),
    event,
    runId: "run-1",
    http: createCannedTransport({}),
    env: {},
    signal: new AbortController().signal,
    onNode: async (record) => {
      if (record.status !== "running") outputs[record.id] = record.output;
    },
  });
  return { outcome, outputs };
}

describe("condition", () => {
  it("runs then when the expression is true, and only then", async () => {
    const { outcome, outputs } = await runCondition("request.body.type == 'email'", { type: "email" });
    expect(outcome).toMatchObject({ status: "succeeded", vars: { branch: "then" } });
    expect(outputs).toEqual({ check: { result: true, next: ["yes"] }, yes: { branch: "then" }, done: null });
  });

  it("runs else when the expression is false", async () => {
    const { outcome, outputs } = await runCondition("request.body.type == 'email'", { type: "sms" });
    expect(outcome.vars).toEqual({ branch: "else" });
    expect(Object.keys(outputs)).toEqual(["check", "no", "done"]);
  });

  it("accepts the expression wrapped in {{ }}", async () => {
    const { outcome } = await runCondition("{{ request.body.total > 100 }}", { total: 150 });
    expect(outcome.vars).toEqual({ branch: "then" });
  });

  it("follows Jinja truthiness: empty lists and mappings are false", async () => {
    expect((await runCondition("request.body.items", { items: [] })).outcome.vars).toEqual({
      branch: "else",
    });
    expect((await runCondition("request.body.items", { items: [1] })).outcome.vars).toEqual({
      branch: "then",
    });
    expect((await runCondition("request.body.meta", { meta: {} })).outcome.vars).toEqual({ branch: "else" });
    expect((await runCondition("request.body.missing", {})).outcome.vars).toEqual({ branch: "else" });
  });

  it("treats an undefined value as an error when the workflow is strict", async () => {
    const { outcome } = await runCondition("request.body.missing", {}, { strict: true });
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/node check: .*if.*undefined/);
    const guarded = await runCondition("request.body.missing is defined", {}, { strict: true });
    expect(guarded.outcome.vars).toEqual({ branch: "else" });
  });

  it("ends the branch when false and there is no else", async () => {
    const doc = parse(`
kind: Workflow
id: only-then
trigger: { type: business-event, integration: shop-cart }
nodes:
  - id: check
    type: condition
    if: "false"
    then: yes
  - id: yes
    type: set
    values: { ran: true }
`) as WorkflowDoc;
    const outcome = await executeRun({
      workflow: compileWorkflow(doc, { registry: builtinRegistry }),
      event: {
        eventId: "e",
        integration: "i",
        endpointId: "e",
        method: "POST",
        time: 0,
        headers: {},
        query: {},
        body: {},
      },
      runId: "r",
      http: createCannedTransport({}),
      env: {},
      signal: new AbortController().signal,
      onNode: async () => {},
    });
    expect(outcome).toEqual({ status: "succeeded", error: null, vars: {} });
  });
});
