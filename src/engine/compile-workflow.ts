import type { WorkflowDoc } from "../config/documents.js";
import { InletError } from "../errors.js";
import type { CompiledNode } from "../nodes/node-type.js";
import type { NodeRegistry } from "../nodes/registry.js";
import {
  createTemplateCompiler,
  formatConfigPath,
  type ConfigPath,
  type TemplateCache,
} from "../templates/compile-value.js";
import { buildGraph, type WorkflowGraph } from "./graph.js";

export interface CompiledWorkflowNode {
  readonly id: string;
  readonly type: string;
  readonly compiled: CompiledNode;
}

/** A workflow ready to run: templates compiled, graph built, nothing left to read from config. */
export interface CompiledWorkflow {
  readonly id: string;
  readonly name: string | undefined;
  readonly enabled: boolean;
  readonly strict: boolean;
  /** The integration whose events start this workflow. */
  readonly integration: string;
  readonly graph: WorkflowGraph;
  readonly nodes: ReadonlyMap<string, CompiledWorkflowNode>;
}

/** `code` is "template-syntax", or "invalid-value" for a value a node's schema cannot express. */
export type Reporter = (path: ConfigPath, message: string, code: "template-syntax" | "invalid-value") => void;

/**
 * Compiles a workflow that already passed schema and graph validation. Template syntax errors,
 * and values a node's schema cannot express, go to `onError` with their path in the workflow document (["nodes", 2, "body", "client",
 * "email"]), so validation can report each at its position; without `onError` the first one throws.
 */
export function compileWorkflow(
  doc: WorkflowDoc,
  options: { registry: NodeRegistry; onError?: Reporter; templates?: TemplateCache },
): CompiledWorkflow {
  const strict = doc.strict ?? false;
  const nodes = compileNodes(doc, options);
  return Object.freeze({
    id: doc.id,
    name: doc.name,
    enabled: doc.enabled ?? true,
    strict,
    integration: doc.trigger.integration,
    graph: Object.freeze(buildGraph(doc.nodes, options.registry)),
    nodes,
  });
}

/**
 * Compiles each node of a workflow that passed schema validation; its graph need not be valid, so
 * validation reports a workflow's template errors beside its graph's.
 */
export function compileNodes(
  doc: WorkflowDoc,
  options: { registry: NodeRegistry; onError?: Reporter; templates?: TemplateCache },
): Map<string, CompiledWorkflowNode> {
  const strict = doc.strict ?? false;
  const { registry, templates: cache } = options;
  const report: Reporter =
    options.onError ??
    ((path, message, code) => {
      throw new InletError(code, `workflow ${doc.id}, ${formatConfigPath(path)}: ${message}`);
    });
  const nodes = new Map<string, CompiledWorkflowNode>();
  doc.nodes.forEach((node, index) => {
    const nodeType = registry.get(node.type);
    if (!nodeType)
      throw new Error(`node type "${node.type}" is not registered (validation should have caught it)`);
    // The compiler and this callback are needed only while compiling: no render keeps them.
    const templates = createTemplateCompiler({
      strict,
      cache,
      onError: (path, message) => report(["nodes", index, ...path], message, "template-syntax"),
    });
    const invalid = (path: ConfigPath, message: string): void =>
      report(["nodes", index, ...path], message, "invalid-value");
    const compiled = nodeType.compile(node, { templates, invalid });
    nodes.set(node.id, Object.freeze({ id: node.id, type: node.type, compiled }));
  });
  return nodes;
}
