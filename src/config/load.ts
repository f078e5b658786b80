import { checkGraph } from "./check-graph.js";
import { checkReferences, type DocumentSet } from "./check-references.js";
import { checkTemplates } from "./check-templates.js";
import { sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import {
  DOC_KINDS,
  type ApiKeyDoc,
  type DocKind,
  type IntegrationDoc,
  type WorkflowDoc,
  type WorkflowTestDoc,
} from "./documents.js";
import type { Located } from "./located.js";
import { diagnosticAt } from "./positions.js";
import { readConfigDir } from "./read.js";
import { compileSchemas, validateDocument, type SchemaValidators } from "./validate-schema.js";
import type { CompiledWorkflow } from "../engine/compile-workflow.js";
import type { NodeRegistry } from "../nodes/registry.js";

/** A validated config: every document checked alone and as a set, workflows compiled. */
export interface LoadedConfig {
  readonly dir: string;
  readonly files: readonly string[];
  readonly set: DocumentSet;
  readonly workflows: ReadonlyMap<string, CompiledWorkflow>;
}

export type LoadResult =
  | { readonly ok: true; readonly config: LoadedConfig }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export interface ConfigLoader {
  /** read → validate → check → compile; all problems at once; no side effects. */
  load(dir: string): Promise<LoadResult>;
}

export function createConfigLoader(registry: NodeRegistry): ConfigLoader {
  const validators = compileSchemas(registry);
  return { load: (dir) => loadConfig(dir, { registry, validators }) };
}

async function loadConfig(
  dir: string,
  deps: { registry: NodeRegistry; validators: SchemaValidators },
): Promise<LoadResult> {
  const read = await readConfigDir(dir);
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  const set = {
    integrations: [] as Located<IntegrationDoc>[],
    apiKeys: [] as Located<ApiKeyDoc>[],
    workflows: [] as Located<WorkflowDoc>[],
    tests: [] as Located<WorkflowTestDoc>[],
  };

  // Ids of documents that failed their schema check: a reference to one is not an unknown one.
  const broken: Record<DocKind, Set<string>> = {
    Integration: new Set(),
    ApiKey: new Set(),
    Workflow: new Set(),
    WorkflowTest: new Set(),
  };
  for (const source of read.documents) {
    const kind = kindOf(source.value);
    if (!kind) {
      diagnostics.push(
        diagnosticAt(source, ["kind"], "unknown-kind", `"kind" must be one of: ${DOC_KINDS.join(", ")}`),
      );
      continue;
    }
    const problems = validateDocument(deps.validators[kind], source.value, source);
    if (problems.length > 0) {
      diagnostics.push(...problems);
      const id = (source.value as { id?: unknown }).id;
      if (typeof id === "string") broken[kind].add(id);
      continue;
    }
    switch (kind) {
      case "Integration":
        set.integrations.push({ doc: source.value as IntegrationDoc, source });
        break;
      case "ApiKey":
        set.apiKeys.push({ doc: source.value as ApiKeyDoc, source });
        break;
      case "Workflow":
        set.workflows.push({ doc: source.value as WorkflowDoc, source });
        break;
      case "WorkflowTest":
        set.tests.push({ doc: source.value as WorkflowTestDoc, source });
        break;
      default: {
        const unreachable: never = kind;
        throw new Error(`unhandled kind ${String(unreachable)}`);
      }
    }
  }

  diagnostics.push(...checkReferences(set, broken));
  const graphInvalid = new Set<Located<WorkflowDoc>>();
  for (const workflow of set.workflows) {
    const problems = checkGraph(workflow, deps.registry);
    diagnostics.push(...problems);
    if (problems.length > 0) graphInvalid.add(workflow);
  }
  const templates = checkTemplates(set.workflows, deps.registry, graphInvalid);
  diagnostics.push(...templates.diagnostics);

  const errors = sortDiagnostics(diagnostics.filter((d) => d.severity === "error"));
  if (errors.length > 0) return { ok: false, diagnostics: errors };
  return {
    ok: true,
    config: { dir, files: read.files, set, workflows: templates.workflows },
  };
}

function kindOf(value: unknown): DocKind | undefined {
  if (typeof value !== "object" || value === null || !("kind" in value)) return undefined;
  return DOC_KINDS.find((kind) => kind === value.kind);
}
