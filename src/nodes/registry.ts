import type { NodeType } from "./node-type.js";
import { outgoingIntegration } from "./outgoing-integration.js";
import { condition } from "./condition.js";
import { set } from "./set.js";
import { end } from "./end.js";

export type NodeRegistry = ReadonlyMap<string, NodeType>;

/** Builds a registry from an explicit list; a repeated type is a programming error. */
export function createRegistry(types: readonly NodeType<never>[]): NodeRegistry {
  const map = new Map<string, NodeType>();
  for (const nodeType of types) {
    if (map.has(nodeType.type)) throw new Error(`node type "${nodeType.type}" is registered twice`);
    map.set(nodeType.type, nodeType as unknown as NodeType);
  }
  return map;
}

/** Every node type an installation has. Adding a type: one file in src/nodes and one line here. */
export const builtinRegistry: NodeRegistry = createRegistry([outgoingIntegration, condition, set, end]);
