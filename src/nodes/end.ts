import type { SchemaObject } from "ajv";
import type { NodeType } from "./node-type.js";

const schema: SchemaObject = { type: "object", properties: {} };

export const end: NodeType<{ id: string }> = {
  type: "end",
  description: "Ends the branch.",
  schema,
  terminal: true,
  compile() {
    return { run: async () => ({ next: [] }) };
  },
};
