import type { WorkflowDoc } from "./documents.js";
import type { Diagnostic } from "./diagnostics.js";
import type { Located } from "./located.js";
import { diagnosticAt } from "./positions.js";
import {
  compileNodes,
  compileWorkflow,
  type CompiledWorkflow,
  type Reporter,
} from "../engine/compile-workflow.js";
import type { NodeRegistry } from "../nodes/registry.js";
import { createTemplateCache } from "../templates/compile-value.js";

/**
 * Compiles every workflow with the real node compilers, so template syntax (and each value a
 * node's schema cannot express) is checked by the same code that runs; each error is positioned
 * at its value. A workflow whose graph is invalid (`graphInvalid`) has its nodes checked all the
 * same, so one round of validation reports both, but it is not compiled whole.
 */
export function checkTemplates(
  workflows: readonly Located<WorkflowDoc>[],
  registry: NodeRegistry,
  graphInvalid: ReadonlySet<Located<WorkflowDoc>>,
): { diagnostics: Diagnostic[]; workflows: ReadonlyMap<string, CompiledWorkflow> } {
  const diagnostics: Diagnostic[] = [];
  const compiled = new Map<string, CompiledWorkflow>();
  const templates = createTemplateCache();
  for (const located of workflows) {
    const { doc, source } = located;
    let failed = false;
    const options = {
      registry,
      templates,
      onError: ((path, message, code) => {
        failed = true;
        diagnostics.push(diagnosticAt(source, path, code, message));
      }) satisfies Reporter,
    };
    if (graphInvalid.has(located)) {
      compileNodes(doc, options);
      continue;
    }
    const workflow = compileWorkflow(doc, options);
    if (!failed) compiled.set(doc.id, workflow);
  }
  return { diagnostics, workflows: compiled };
}
