import type { SchemaObject } from "ajv";
import { APIKEY_SCHEMA, INTEGRATION_SCHEMA, WORKFLOW_TEST_SCHEMA } from "./documents.js";
import { composeWorkflowSchema } from "./workflow-schema.js";
import type { NodeRegistry } from "../nodes/registry.js";

/** The files of schemas/, keyed by file name: what editors load through `$schema` lines. */
export function schemaFiles(registry: NodeRegistry): Readonly<Record<string, SchemaObject>> {
  return {
    "integration.schema.json": INTEGRATION_SCHEMA,
    "apikey.schema.json": APIKEY_SCHEMA,
    "workflow.schema.json": composeWorkflowSchema(registry),
    "workflowtest.schema.json": WORKFLOW_TEST_SCHEMA,
  };
}

export function serializeSchema(schema: SchemaObject): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
