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
    else: {
      type: "string",
      pattern: ID_PATTERN,
      description: "Node run otherwise; without it the branch ends.",
    },
  },
};

export const condition: NodeType<ConditionConfig> = {
  type: "condition",
  description: "Chooses a branch.",
  schema,
  branchFields: ["then", "else"],
  compile(config, { templates }) {
    const test = templates.expression(config.if, ["if"]);
    const branch = (result: boolean): string[] => {
      const target = result ? config.then : config.else;
      return target === undefined ? [] : [target];
    };
    return {
      async run({ scope }) {
        const result = isTruthy(test.evaluate(scope));
        const next = branch(result);
        return { output: { result, next }, next };
      },
      restore(output) {
        const result = (output as { result?: unknown } | null)?.result === true;
        return { output, next: branch(result) };
      },
    };
  },
};

/** Jinja truthiness, which users of a Jinja expression expect: empty lists and mappings are false. */
function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === "object") return Object.keys(value).length > 0;
  return Boolean(value);
}
