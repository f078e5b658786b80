import type { NodeDocBase } from "../config/documents.js";
import type { NodeRegistry } from "../nodes/registry.js";
import type { ConfigPath } from "../templates/compile-value.js";

/** One edge of a workflow graph, with where it is written (relative to the node) for diagnostics. */
export interface Edge {
  readonly target: string;
  readonly path: ConfigPath;
}

/**
 * The successors of nodes[index] (SPEC 2.3): a terminal node has none; a branching node names
 * them in its branch fields; otherwise `next` (one id or a list of parallel branches), and
 * without `next` the following node in the list.
 */
export function nodeEdges(nodes: readonly NodeDocBase[], index: number, registry: NodeRegistry): Edge[] {
  const node = nodes[index];
  if (!node) return [];
  const nodeType = registry.get(node.type);
  if (nodeType?.terminal) return [];
  if (nodeType?.branchFields) {
    const fields = node as unknown as Record<string, unknown>;
    return nodeType.branchFields.flatMap((field) => {
      const target = fields[field];
      return typeof target === "string" ? [{ target, path: [field] }] : [];
    });
  }
  if (typeof node.next === "string") return [{ target: node.next, path: ["next"] }];
  if (Array.isArray(node.next)) return node.next.map((target, i) => ({ target, path: ["next", i] }));
  const following = nodes[index + 1];
  return following ? [{ target: following.id, path: [] }] : [];
}

export interface WorkflowGraph {
  readonly start: string;
  readonly successors: ReadonlyMap<string, readonly string[]>;
}

/** The graph of a validated workflow (ids unique, every target known). */
export function buildGraph(nodes: readonly NodeDocBase[], registry: NodeRegistry): WorkflowGraph {
  const successors = new Map<string, readonly string[]>();
  nodes.forEach((node, index) => {
    successors.set(node.id, Object.freeze(nodeEdges(nodes, index, registry).map((edge) => edge.target)));
  });
  const first = nodes[0];
  if (!first) throw new Error("a workflow has at least one node (schema minItems)");
  return { start: first.id, successors };
}
