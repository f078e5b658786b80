import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WorkflowDoc } from "../../src/config/documents.js";
import { compileWorkflow } from "../../src/engine/compile-workflow.js";
import { executeRun } from "../../src/engine/execute-run.js";
import type { IncomingEvent } from "../../src/ingest/event.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import type { NodeRecord } from "../../src/store/store.js";
import { createCannedTransport } from "../../src/workflow-tests/canned-transport.js";

async function runNodes(nodes: string, body: unknown, options: { strict?: boolean } = {}) {
  const doc = parse(`
kind: Workflow
id: setting
strict: ${options.strict ?? false}
trigger: { type: business-event, integration: shop-cart }
nodes:
${nodes}`) as WorkflowDoc;
  const event: IncomingEvent = {
    eventId: "ev-1",
    integration: "shop-cart",
    endpointId: "e",
    method: "POST",
    time: Date.now(),
    headers: { "x-request-id": "r1" },
    query: {},
    body,
  };
  const records: NodeRecord[] = [];
  const outcome = await executeRun({
    workflow: compileWorkflow(doc, { registry: builtinRegistry }),
    event,
    runId: "run-1",
    http: createCannedTransport({}),
    env: { REGION: "eu" },
    signal: new AbortController().signal,
    onNode: async (record) => {
      records.push(record);
    },
  });
  return { outcome, records: records.filter((record) => record.status !== "running") };
}

describe("set", () => {
  it("puts rendered values under vars, keeping the types of lone expressions", async () => {
    const { outcome, records } = await runNodes(
      `
  - id: compute
    type: set
    values:
      email: "{{ request.body.customer.email | lower }}"
      products: "{{ request.body.products }}"
      count: "{{ request.body.products | length }}"
      label: "{{ env.REGION }}-{{ request.headers['X-Request-ID'] }}"
      nested: { first: "{{ request.body.products[0].name }}", fixed: 1 }
`,
      { customer: { email: "A@B.C" }, products: [{ name: "Earwax" }, { name: "Candle" }] },
    );
    const expected = {
      email: "a@b.c",
      products: [{ name: "Earwax" }, { name: "Candle" }],
      count: 2,
      label: "eu-r1",
      nested: { first: "Earwax", fixed: 1 },
    };
    expect(outcome).toEqual({ status: "succeeded", error: null, vars: expected });
    expect(records[0]).toMatchObject({ id: "compute", type: "set", status: "succeeded", output: expected });
  });

  it("makes vars visible to later nodes, a later set overriding an earlier one", async () => {
    const { outcome } = await runNodes(
      `
  - id: first
    type: set
    values: { total: "{{ request.body.a + request.body.b }}", tag: one }
  - id: second
    type: set
    values: { doubled: "{{ vars.total * 2 }}", tag: two }
`,
      { a: 2, b: 3 },
    );
    expect(outcome.vars).toEqual({ total: 5, doubled: 10, tag: "two" });
  });

  it("renders an undefined value as empty unless the workflow is strict", async () => {
    const nodes = `
  - id: compute
    type: set
    values: { v: "{{ request.body.missing }}" }
`;
    expect((await runNodes(nodes, {})).outcome.vars).toEqual({ v: "" });
    const strict = await runNodes(nodes, {}, { strict: true });
    expect(strict.outcome.status).toBe("failed");
    expect(strict.outcome.error).toMatch(/values\.v/);
  });
});
