import type { ApiKeyDoc, DocKind, IntegrationDoc, WorkflowDoc, WorkflowTestDoc } from "./documents.js";
import type { Diagnostic } from "./diagnostics.js";
import type { Located } from "./located.js";
import { diagnosticAt } from "./positions.js";
import { parseDurationMs } from "./units.js";
import {
  DEDUP_TTL_MAX,
  DEDUP_TTL_MAX_MS,
  DEDUP_TTL_MIN,
  DEDUP_TTL_MIN_MS,
  TOKEN_TTL_MAX_MS,
} from "../defaults.js";
import { parsePath } from "../ingest/paths.js";

export interface DocumentSet {
  readonly integrations: readonly Located<IntegrationDoc>[];
  readonly apiKeys: readonly Located<ApiKeyDoc>[];
  readonly workflows: readonly Located<WorkflowDoc>[];
  readonly tests: readonly Located<WorkflowTestDoc>[];
}

/** Ids declared by documents that failed their schema check, by kind: they exist, broken. */
export type BrokenIds = Readonly<Record<DocKind, ReadonlySet<string>>>;

/**
 * Checks that need the whole set: unique ids per kind and unique endpoints, references between
 * documents, and values the schema cannot express (dedup paths, the dedup and token TTL ranges).
 * A reference to a document that failed its schema check (`broken`) is not reported: that
 * document's own problem is, and "no Integration with id …" would send its author looking for one.
 */
export function checkReferences(set: DocumentSet, broken: BrokenIds): Diagnostic[] {
  const diagnostics: Diagnostic[] = [
    ...checkUnique(set.integrations, "Integration", (doc) => doc.id, ["id"]),
    ...checkUnique(set.integrations, "endpoint", (doc) => doc.endpoint.toLowerCase(), ["endpoint"]),
    ...checkUnique(set.apiKeys, "ApiKey", (doc) => doc.id, ["id"]),
    ...checkUnique(set.workflows, "Workflow", (doc) => doc.id, ["id"]),
  ];
  const integrationIds = new Set([...set.integrations.map(({ doc }) => doc.id), ...broken.Integration]);
  const apiKeyIds = new Set([...set.apiKeys.map(({ doc }) => doc.id), ...broken.ApiKey]);
  const workflows = new Map(set.workflows.map(({ doc }) => [doc.id, doc]));

  for (const { doc, source } of set.integrations) {
    if (doc.auth.type === "jwt" && "apiKey" in doc.auth && !apiKeyIds.has(doc.auth.apiKey)) {
      diagnostics.push(
        diagnosticAt(source, ["auth", "apiKey"], "unknown-ref", `no ApiKey with id "${doc.auth.apiKey}"`),
      );
    }
    if (doc.dedup?.ttl !== undefined) {
      const ttlMs = parseDurationMs(doc.dedup.ttl);
      if (ttlMs < DEDUP_TTL_MIN_MS || ttlMs > DEDUP_TTL_MAX_MS) {
        diagnostics.push(
          diagnosticAt(
            source,
            ["dedup", "ttl"],
            "invalid-value",
            `dedup.ttl must be from ${DEDUP_TTL_MIN} to ${DEDUP_TTL_MAX}`,
          ),
        );
      }
    }
    if (doc.dedup && "params" in doc.dedup) {
      doc.dedup.params.forEach((param, index) => {
        const parsed = parsePath(param);
        if ("error" in parsed) {
          diagnostics.push(diagnosticAt(source, ["dedup", "params", index], "dedup-param", parsed.error));
        }
      });
    }
  }
  for (const { doc, source } of set.apiKeys) {
    if (doc.tokenTtl !== undefined && parseDurationMs(doc.tokenTtl) > TOKEN_TTL_MAX_MS) {
      diagnostics.push(diagnosticAt(source, ["tokenTtl"], "invalid-value", "tokenTtl must be at most 24h"));
    }
  }
  for (const { doc, source } of set.workflows) {
    if (!integrationIds.has(doc.trigger.integration)) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["trigger", "integration"],
          "unknown-ref",
          `no Integration with id "${doc.trigger.integration}"`,
        ),
      );
    }
  }
  for (const { doc, source } of set.tests) {
    const workflow = workflows.get(doc.workflow);
    if (!workflow && broken.Workflow.has(doc.workflow)) continue;
    if (!workflow) {
      diagnostics.push(
        diagnosticAt(source, ["workflow"], "unknown-ref", `no Workflow with id "${doc.workflow}"`),
      );
      continue;
    }
    const nodeIds = new Set(workflow.nodes.map((node) => node.id));
    doc.cases.forEach((testCase, caseIndex) => {
      for (const nodeId of Object.keys(testCase.responses ?? {})) {
        if (!nodeIds.has(nodeId)) {
          diagnostics.push(
            diagnosticAt(
              source,
              ["cases", caseIndex, "responses", nodeId],
              "unknown-ref",
              `workflow "${doc.workflow}" has no node "${nodeId}"`,
              { at: "key" },
            ),
          );
        }
      }
      testCase.expect?.calls?.forEach((call, callIndex) => {
        if (call.node !== undefined && !nodeIds.has(call.node)) {
          diagnostics.push(
            diagnosticAt(
              source,
              ["cases", caseIndex, "expect", "calls", callIndex, "node"],
              "unknown-ref",
              `workflow "${doc.workflow}" has no node "${call.node}"`,
            ),
          );
        }
      });
    });
  }
  return diagnostics;
}

function checkUnique<T>(
  items: readonly Located<T>[],
  what: string,
  keyOf: (doc: T) => string,
  path: readonly string[],
): Diagnostic[] {
  const first = new Map<string, Located<T>>();
  const diagnostics: Diagnostic[] = [];
  for (const item of items) {
    const key = keyOf(item.doc);
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, item);
      continue;
    }
    const at = diagnosticAt(earlier.source, path, "duplicate-id", "");
    diagnostics.push(
      diagnosticAt(
        item.source,
        path,
        what === "endpoint" ? "duplicate-endpoint" : "duplicate-id",
        `duplicate ${what} "${key}" (first at ${at.file}:${at.line}:${at.col})`,
      ),
    );
  }
  return diagnostics;
}
