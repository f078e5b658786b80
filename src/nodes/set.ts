import type { SchemaObject } from "ajv";
import type { NodeType } from "./node-type.js";

export interface SetConfig {
  id: string;
  values: Record<string, unknown>;
}

const schema: SchemaObject = {
  type: "object",
  required: ["values"],
  properties: {
    values: {
      type: "object",
      minProperties: 1,
      propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
      description: "Name → template; results are available as vars.<name>.",
    },
  },
};

export const set: NodeType<SetConfig> = {
  type: "set",
  description: "Computes values into vars.",
  schema,
  compile(config, { templates }) {
    // Rendered as one structure: each value by its own path, into an object with own keys.
    const values = templates.value(config.values, ["values"]);
    return {
      async run({ scope }) {
        const rendered = values.render(scope) as Record<string, unknown>;
        return { output: rendered, vars: rendered };
      },
      restore(output) {
        const vars = output !== null && typeof output === "object" ? (output as Record<string, unknown>) : {};
        return { output, vars };
      },
    };
  },
};
