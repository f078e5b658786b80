import type { SchemaObject } from "ajv";
import { ID_PATTERN, workflowSchema } from "./documents.js";
import type { NodeRegistry } from "../nodes/registry.js";

const nodeId = {
  type: "string",
  pattern: ID_PATTERN,
  description: "Unique id of the node in this workflow.",
};
const next = {
  description:
    "The node(s) to run after this one; a list runs parallel branches. Default: the following node.",
  oneOf: [nodeId, { type: "array", minItems: 1, items: nodeId }],
};

/**
 * The schema of one workflow node, composed from the registry: the common fields plus, selected
 * by `type`, that type's own schema. A new node type validates without touching this file.
 */
export function composeNodeSchema(registry: NodeRegistry): SchemaObject {
  const types = [...registry.keys()];
  return {
    type: "object",
    required: ["id", "type"],
    properties: {
      id: nodeId,
      type: { enum: types, description: "The node type." },
      name: { type: "string", description: "Free text shown in run history." },
    },
    allOf: [...registry.values()].map((nodeType) => {
      const own = nodeType.schema;
      const common: Record<string, unknown> = { id: true, type: true, name: true };
      if (!nodeType.terminal && !nodeType.branchFields) common["next"] = next;
      return {
        if: { properties: { type: { const: nodeType.type } }, required: ["type"] },
        then: {
          description: nodeType.description,
          ...own,
          properties: { ...common, ...(own["properties"] as Record<string, unknown> | undefined) },
          additionalProperties: false,
        },
      };
    }),
  };
}

export function composeWorkflowSchema(registry: NodeRegistry): SchemaObject {
  return workflowSchema(composeNodeSchema(registry));
}
