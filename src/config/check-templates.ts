import type { WorkflowDoc } from "./documents.js";
import type { Diagnostic } from "./diagnostics.js";
import type { Located } from "./located.js";
import { diagnosticAt } from "./positions.js";
import { compileWorkflow, type CompiledWorkflow } from "../engine/compile-workflow.js";
import type { NodeRegistry } from "../nodes/registry.js";
import { createTemplateCache } from "../templates/compile-value.js";

/**
 * Compiles every workflow with the real node compilers, so template syntax (and each value a
 * node's schema cannot express) is checked by the same code that runs; each error is positioned
 * at its value.
 */
export function checkTemplates(
  workflows: readonly Located<WorkflowDoc>[],
  registry: NodeRegistry,
): { diagnostics: Diagnostic[]; workflows: ReadonlyMap<string, CompiledWorkflow> } {
  const diagnostics: Diagnostic[] = [];
  const compiled = new Map<string, CompiledWorkflow>();
  const templates = createTemplateCache();
  for (const { doc, source } of workflows) {
    let failed = false;
    const workflow = compileWorkflow(doc, {
      registry,
      templates,
      onError: (path, message, code) => {
        failed = true;
        diagnostics.push(diagnosticAt(source, path, code, message));
      },
    });
    if (!failed) compiled.set(doc.id, workflow);
  }
  return { diagnostics, workflows: compiled };
}
