import type { SchemaObject } from "ajv";
import { ID_PATTERN } from "../config/documents.js";
import type { NodeType } from "./node-type.js";

export interface ConditionConfig {
  id: string;
  if: string;
  then: string;
  else?: string;
}

const schema: SchemaObject = {
  type: "object",
  required: ["if", "then"],
  properties: {
    if: { type: "string", description: "A Jinja expression, e.g. request.body.type == 'email'." },
    then: { type: "string", pattern: ID_PATTERN, description: "Node run when the expression is truthy." },
    else: { type: "string", pattern: ID_PATTERN, description: "Node run otherwise; without it the branch ends." },
  },
};

export const condition: NodeType<ConditionConfig> = {
  type: "condition",
  description: "Chooses a branch.",
  schema,
  branchFields: ["then", "else"],
  compile() {
    throw new Error("implemented in the engine issue");
  },
};
