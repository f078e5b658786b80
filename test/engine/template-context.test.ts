import { describe, expect, it } from "vitest";
import { buildScope } from "../../src/engine/template-context.js";
import type { IncomingEvent } from "../../src/ingest/event.js";
import { createTemplateCompiler } from "../../src/templates/compile-value.js";

const event: IncomingEvent = {
  eventId: "ev-1",
  integration: "shop-cart",
  endpointId: "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11",
  method: "POST",
  time: 1_700_000_000_000,
  headers: { "x-request-id": "r1", "content-type": "application/json" },
  query: { page: "2" },
  body: { customer_email: "a@b.c" },
};

const scope = buildScope({
  event,
  runId: "run-1",
  workflowId: "cart",
  vars: { total: 3 },
  nodes: { send: { response: { status: 201 } } },
  env: { API_BASE: "api.example.com" },
});

function render(template: string): unknown {
  return createTemplateCompiler({ strict: true }).value(template, []).render(scope);
}

describe("buildScope", () => {
  it("exposes request, vars, nodes, env, run and workflow", () => {
    expect(render("{{ request.body.customer_email }}")).toBe("a@b.c");
    expect(render("{{ request.query.page }}")).toBe("2");
    expect(render("{{ request.method }} {{ request.eventId }} {{ request.integration }}")).toBe(
      "POST ev-1 shop-cart",
    );
    expect(render("{{ request.endpointId }}")).toBe(event.endpointId);
    expect(render("{{ request.time }}")).toBe(1_700_000_000_000);
    expect(render("{{ vars.total }}")).toBe(3);
    expect(render("{{ nodes.send.response.status }}")).toBe(201);
    expect(render("https://{{ env.API_BASE }}/x")).toBe("https://api.example.com/x");
    expect(render("{{ run.id }}/{{ workflow.id }}")).toBe("run-1/cart");
  });

  it("looks request headers up case-insensitively", () => {
    expect(render('{{ request.headers["X-Request-ID"] }}')).toBe("r1");
    expect(render('{{ request.headers["x-request-id"] }}')).toBe("r1");
    expect(render("{{ request.headers['Content-Type'] }}")).toBe("application/json");
    expect(render("{{ 'X-REQUEST-ID' in request.headers }}")).toBe(true);
    expect(render("{{ request.headers | dump }}")).toBe(
      '{"x-request-id":"r1","content-type":"application/json"}',
    );
  });

  it("is read-only", () => {
    const request = scope.request as { headers: Record<string, string>; method: string };
    expect(() => {
      request.method = "GET";
    }).toThrow(TypeError);
    expect(() => {
      request.headers["x-request-id"] = "forged";
    }).toThrow(TypeError);
    expect(render('{{ request.headers["x-request-id"] }}')).toBe("r1");
  });

  it("copies vars and nodes as they are when the node starts, a var named __proto__ kept a var", () => {
    const vars = JSON.parse('{"__proto__": {"polluted": true}, "total": 3}') as Record<string, unknown>;
    const nodes: Record<string, unknown> = { send: { status: 201 } };
    const copied = buildScope({ event, runId: "run-1", workflowId: "cart", vars, nodes, env: {} });
    vars["total"] = 4;
    nodes["later"] = { status: 500 };
    const seenVars = copied.vars as Record<string, unknown>;
    expect(Object.hasOwn(seenVars, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(seenVars)).toBe(Object.prototype);
    expect(seenVars["polluted"]).toBeUndefined();
    expect(seenVars["total"]).toBe(3);
    expect(Object.isFrozen(seenVars)).toBe(true);
    expect(Object.keys(copied.nodes as object)).toEqual(["send"]);
    expect(Object.isFrozen(copied.nodes)).toBe(true);
  });
});
