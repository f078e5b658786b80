import type { WorkflowDoc } from "./documents.js";
import type { Diagnostic } from "./diagnostics.js";
import type { Located } from "./located.js";
import { diagnosticAt } from "./positions.js";
import { nodeEdges } from "../engine/graph.js";
import type { NodeRegistry } from "../nodes/registry.js";

/** Per-workflow graph checks (SPEC 2.3): unique node ids, known targets, no cycles, all reachable. */
export function checkGraph({ doc, source }: Located<WorkflowDoc>, registry: NodeRegistry): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const indexOf = new Map<string, number>();
  doc.nodes.forEach((node, index) => {
    if (indexOf.has(node.id)) {
      diagnostics.push(
        diagnosticAt(source, ["nodes", index, "id"], "duplicate-id", `duplicate node id "${node.id}"`),
      );
    } else {
      indexOf.set(node.id, index);
    }
  });

  const edges = doc.nodes.map((_, index) => nodeEdges(doc.nodes, index, registry));
  edges.forEach((nodeEdgeList, index) => {
    for (const edge of nodeEdgeList) {
      if (!indexOf.has(edge.target)) {
        diagnostics.push(
          diagnosticAt(
            source,
            ["nodes", index, ...edge.path],
            "unknown-node",
            `no node with id "${edge.target}"`,
          ),
        );
      }
    }
  });
  if (diagnostics.length > 0) return diagnostics;

  // Depth-first search from the start node: a back edge closes a cycle; unvisited nodes are unreachable.
  const state = new Map<number, "visiting" | "done">();
  const stack: Array<{ index: number; edge: number }> = [{ index: 0, edge: 0 }];
  state.set(0, "visiting");
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const edge = edges[frame.index]![frame.edge];
    if (!edge) {
      state.set(frame.index, "done");
      stack.pop();
      continue;
    }
    frame.edge += 1;
    const target = indexOf.get(edge.target)!;
    const seen = state.get(target);
    if (seen === "visiting") {
      diagnostics.push(
        diagnosticAt(
          source,
          ["nodes", frame.index, ...(edge.path.length > 0 ? edge.path : ["id"])],
          "cycle",
          `"${doc.nodes[frame.index]!.id}" → "${edge.target}" closes a cycle`,
        ),
      );
    } else if (seen === undefined) {
      state.set(target, "visiting");
      stack.push({ index: target, edge: 0 });
    }
  }
  doc.nodes.forEach((node, index) => {
    if (!state.has(index)) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["nodes", index, "id"],
          "unreachable",
          `node "${node.id}" is never reached from the first node "${doc.nodes[0]!.id}"`,
        ),
      );
    }
  });
  return diagnostics;
}
