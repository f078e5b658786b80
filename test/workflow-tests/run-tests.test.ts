import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WorkflowDoc, WorkflowTestDoc } from "../../src/config/documents.js";
import { compileWorkflow, type CompiledWorkflow } from "../../src/engine/compile-workflow.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { formatTestReport, runWorkflowTests } from "../../src/workflow-tests/run-tests.js";

const WORKFLOW = `
kind: Workflow
id: cart-to-custom-event
trigger: { type: business-event, integration: shop-cart }
nodes:
  - id: send-event
    type: outgoing-integration
    method: POST
    url: "https://{{ env.API_BASE }}/v4/events/custom"
    auth: { type: bearer, token: "{{ env.API_TOKEN }}" }
    headers:
      X-Source: inlet
      X-Request-ID: '{{ request.headers["X-Request-ID"] }}'
    body:
      action: goal.achieve
      client: { email: "{{ request.body.customer_email }}" }
      params: { products: "{{ request.body.products }}" }
  - id: remember
    type: set
    values: { status: "{{ nodes['send-event'].response.status }}", id: "{{ nodes['send-event'].response.body.id }}" }
`;

function workflows(): ReadonlyMap<string, CompiledWorkflow> {
  const workflow = compileWorkflow(parse(WORKFLOW) as WorkflowDoc, { registry: builtinRegistry });
  return new Map([[workflow.id, workflow]]);
}

async function runTests(testYaml: string) {
  return runWorkflowTests({
    workflows: workflows(),
    tests: [{ file: "workflows/cart.test.yaml", doc: parse(testYaml) as WorkflowTestDoc }],
  });
}

describe("runWorkflowTests", () => {
  it("passes a case whose calls, status and vars match, without any network", async () => {
    const report = await runTests(`
kind: WorkflowTest
workflow: cart-to-custom-event
cases:
  - name: sends the customer's email
    request:
      body: { customer_email: a@b.c, order_number: "1", products: [{ name: Earwax }] }
      headers: { X-Request-ID: r1 }
    env: { API_BASE: api.example.invalid, API_TOKEN: t }
    responses:
      send-event: { status: 201, body: { id: evt-9 } }
    expect:
      status: succeeded
      calls:
        - node: send-event
          method: POST
          url: https://api.example.invalid/v4/events/custom
          headers: { authorization: Bearer t, x-request-id: r1, X-SOURCE: inlet }
          body: { client: { email: a@b.c }, params: { products: [{ name: Earwax }] } }
      vars: { status: 201, id: evt-9 }
`);
    expect(report).toMatchObject({ passed: 1, failed: 0 });
    expect(formatTestReport(report)).toBe(
      [
        "workflows/cart.test.yaml (cart-to-custom-event)",
        "  ✓ sends the customer's email",
        "1 passed, 0 failed",
      ].join("\n"),
    );
  });

  it("answers attempt by attempt from a list, retrying without waiting", async () => {
    const report = await runTests(`
kind: WorkflowTest
workflow: cart-to-custom-event
cases:
  - name: retries a busy receiver
    request: { body: { customer_email: a@b.c } }
    env: { API_BASE: api.example.invalid, API_TOKEN: t }
    responses:
      send-event: [{ status: 503 }, { status: 503 }, { status: 200, body: { id: third } }]
    expect:
      status: succeeded
      calls: [{ node: send-event }, { node: send-event }, { node: send-event }]
      vars: { id: third }
  - name: fails on a permanent error
    request: { body: { customer_email: a@b.c } }
    env: { API_BASE: api.example.invalid, API_TOKEN: t }
    responses:
      send-event: { status: 400, body: { error: bad } }
    expect:
      status: failed
      calls: [{ node: send-event }]
`);
    expect(report.cases.map((result) => [result.name, result.passed, result.calls.length])).toEqual([
      ["retries a busy receiver", true, 3],
      ["fails on a permanent error", true, 1],
    ]);
  });

  it("fails a case with a readable diff", async () => {
    const report = await runTests(`
kind: WorkflowTest
workflow: cart-to-custom-event
cases:
  - name: wrong expectations
    request: { body: { customer_email: someone@else.example } }
    env: { API_BASE: api.example.invalid, API_TOKEN: t }
    responses:
      send-event: { status: 500 }
    expect:
      status: succeeded
      calls:
        - url: https://api.example.invalid/v4/events/custom
          body: { client: { email: a@b.c } }
`);
    expect(report).toMatchObject({ passed: 0, failed: 1 });
    const text = formatTestReport(report);
    expect(text).toContain("  ✗ wrong expectations");
    expect(text).toContain('status: expected "succeeded", got "failed"');
    expect(text).toContain('calls[0].body.client.email: expected "a@b.c", got "someone@else.example"');
    expect(text).toContain("calls.length: expected 1, got 3");
    expect(text).toMatch(/error: node send-event: .*500/);
    expect(text.split("\n").at(-1)).toBe("0 passed, 1 failed");
  });

  it("fails a case whose workflow is not loaded", async () => {
    const report = await runTests(`
kind: WorkflowTest
workflow: nowhere
cases:
  - name: orphan
`);
    expect(report.failed).toBe(1);
    expect(formatTestReport(report)).toContain('error: workflow "nowhere" is not loaded');
  });
});
