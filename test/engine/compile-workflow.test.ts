import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WorkflowDoc } from "../../src/config/documents.js";
import { compileWorkflow } from "../../src/engine/compile-workflow.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import type { ConfigPath } from "../../src/templates/compile-value.js";

const WORKFLOW = `
kind: Workflow
id: cart
name: Cart
trigger: { type: business-event, integration: shop-cart }
nodes:
  - id: pick
    type: condition
    if: request.body.type == 'email'
    then: send
    else: done
  - id: send
    type: outgoing-integration
    method: POST
    url: "https://example.com/{{ request.body.id }}"
    body:
      client:
        email: "{{ request.body.email "
    next: [a, b]
  - id: a
    type: set
    values: { x: "{% if %}" }
  - id: b
    type: end
  - id: done
    type: end
`;

describe("compileWorkflow", () => {
  it("reports every template syntax error at its path in the workflow document", () => {
    const errors: Array<{ path: ConfigPath; message: string }> = [];
    compileWorkflow(parse(WORKFLOW) as WorkflowDoc, {
      registry: builtinRegistry,
      onError: (path, message) => errors.push({ path, message }),
    });
    expect(errors.map((error) => error.path)).toEqual([
      ["nodes", 1, "body", "client", "email"],
      ["nodes", 2, "values", "x"],
    ]);
  });

  it("throws a template-syntax error without onError", () => {
    expect(() => compileWorkflow(parse(WORKFLOW) as WorkflowDoc, { registry: builtinRegistry })).toThrow(
      expect.objectContaining({
        code: "template-syntax",
        message: expect.stringMatching(/nodes\[1\]\.body\.client\.email/),
      }),
    );
  });

  it("builds the runtime view: defaults, trigger, graph and compiled nodes", () => {
    const doc = parse(
      WORKFLOW.replace('"{{ request.body.email "', '"{{ request.body.email }}"').replace(
        "{% if %}",
        "{{ 1 }}",
      ),
    ) as WorkflowDoc;
    const workflow = compileWorkflow(doc, { registry: builtinRegistry });
    expect(workflow).toMatchObject({
      id: "cart",
      name: "Cart",
      enabled: true,
      strict: false,
      integration: "shop-cart",
    });
    expect(workflow.graph.start).toBe("pick");
    expect(workflow.graph.successors.get("send")).toEqual(["a", "b"]);
    expect(workflow.graph.successors.get("pick")).toEqual(["send", "done"]);
    expect([...workflow.nodes.values()].map((node) => [node.id, node.type])).toEqual([
      ["pick", "condition"],
      ["send", "outgoing-integration"],
      ["a", "set"],
      ["b", "end"],
      ["done", "end"],
    ]);
    expect(workflow.nodes.get("send")?.compiled.retry).toEqual({ attempts: 3 });
    expect(Object.isFrozen(workflow)).toBe(true);
  });
});
