import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { compileSchemas } from "../../src/config/validate-schema.js";
import { schemaFiles, serializeSchema } from "../../src/config/schema-files.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import type { ApiKeyDoc, IntegrationDoc, WorkflowDoc, WorkflowTestDoc } from "../../src/config/documents.js";

describe("schemas/", () => {
  it.each(Object.entries(schemaFiles(builtinRegistry)))(
    "%s matches the code (run `npm run schemas`)",
    (name, schema) => {
      const committed = readFileSync(path.join("schemas", name), "utf8");
      expect(committed).toBe(serializeSchema(schema));
    },
  );

  it("composes the Workflow node schema from every registered node type", () => {
    const workflow = schemaFiles(builtinRegistry)["workflow.schema.json"] as {
      properties: { nodes: { items: { properties: { type: { enum: string[] } } } } };
    };
    expect(workflow.properties.nodes.items.properties.type.enum).toEqual([...builtinRegistry.keys()]);
  });

  it("accepts documents typed with the hand-written TypeScript types", () => {
    const validators = compileSchemas(builtinRegistry);
    const integration: IntegrationDoc = {
      kind: "Integration",
      id: "a",
      endpoint: "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11",
      auth: { type: "signature", secretEnv: "SECRET", header: "X-Sig", algorithm: "sha256", prefix: "" },
      dedup: { header: "X-Deduplication-Hash", ttl: "1d" },
      rateLimit: "10/s",
      maxBodySize: "512kb",
      samples: 0,
    };
    const jwks: IntegrationDoc = {
      ...integration,
      auth: {
        type: "jwt",
        jwks: "https://idp.example/jwks.json",
        issuer: "https://idp.example/",
        audience: "inlet",
      },
      dedup: { params: ["body.id"] },
    };
    const apiKey: ApiKeyDoc = {
      kind: "ApiKey",
      id: "k",
      secretEnv: "K",
      permissions: ["incoming"],
      tokenTtl: "2h",
      enabled: false,
    };
    const workflow: WorkflowDoc = {
      kind: "Workflow",
      id: "w",
      strict: true,
      trigger: { type: "business-event", integration: "a" },
      nodes: [
        { id: "c", type: "condition", if: "request.body.x == 1", then: "s", else: "e" },
        { id: "s", type: "set", values: { y: "{{ request.body.y }}" }, next: ["o", "e"] },
        {
          id: "o",
          type: "outgoing-integration",
          method: "GET",
          url: "http://x.test/",
          auth: { type: "basic", username: "u", password: "p" },
        },
        { id: "e", type: "end" },
      ],
    };
    const test: WorkflowTestDoc = {
      kind: "WorkflowTest",
      workflow: "w",
      cases: [
        {
          name: "x",
          request: { body: {} },
          responses: { o: [{ status: 503 }, { status: 200 }] },
          expect: { status: "succeeded", calls: [{ node: "o" }] },
        },
      ],
    };
    expect(validators.Integration(integration), JSON.stringify(validators.Integration.errors)).toBe(true);
    expect(validators.Integration(jwks), JSON.stringify(validators.Integration.errors)).toBe(true);
    expect(validators.ApiKey(apiKey), JSON.stringify(validators.ApiKey.errors)).toBe(true);
    expect(validators.Workflow(workflow), JSON.stringify(validators.Workflow.errors)).toBe(true);
    expect(validators.WorkflowTest(test), JSON.stringify(validators.WorkflowTest.errors)).toBe(true);
  });

  it("is what the shipped files point editors at", () => {
    for (const file of ["integrations/shop-cart.yaml", "workflows/cart-to-custom-event.yaml"]) {
      const text = readFileSync(file, "utf8");
      expect(text.split("\n")[0]).toMatch(
        /^# yaml-language-server: \$schema=\.\.\/schemas\/\w+\.schema\.json$/,
      );
      expect(parse(text)).toBeTruthy();
    }
  });
});
