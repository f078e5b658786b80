import type { Diagnostic } from "./diagnostics.js";
import type { AuthConfig, DedupConfig, DocKind, WorkflowTestDoc } from "./documents.js";
import type { LoadedConfig } from "./load.js";
import type { Located } from "./located.js";
import { diagnosticAt } from "./positions.js";
import { parseRate, parseSizeBytes, type Rate } from "./units.js";
import * as defaults from "../defaults.js";
import { compileApiKey, type CompiledApiKey } from "../auth/api-keys.js";
import { KeySets } from "../auth/jwks.js";
import { compileVerifier, type Verifier } from "../auth/verifier.js";
import { compileDedupPolicy, type DedupPolicy } from "../dedup/hash.js";
import type { CompiledWorkflow } from "../engine/compile-workflow.js";

/** An integration compiled for the ingress: everything a request needs, computed once. */
export interface RuntimeIntegration {
  readonly id: string;
  readonly name: string | undefined;
  readonly icon: string | undefined;
  /** Lower-case UUID. */
  readonly endpoint: string;
  readonly enabled: boolean;
  readonly auth: AuthConfig;
  readonly verifier: Verifier;
  readonly dedupConfig: DedupConfig | undefined;
  readonly dedup: DedupPolicy | null;
  readonly rateLimit: { readonly text: string; readonly rate: Rate } | null;
  readonly maxBodyBytes: number;
  readonly samples: number;
  /** Ids of the enabled workflows this integration triggers. */
  readonly workflows: readonly string[];
}

/**
 * The one object the server reads: an immutable, compiled view of a whole valid config. A reload
 * builds a new one and swaps a single reference; a request keeps the snapshot it started with.
 */
export interface Snapshot {
  readonly loadedAt: Date;
  readonly dir: string;
  readonly files: readonly string[];
  readonly documentCounts: Readonly<Record<DocKind, number>>;
  readonly byEndpoint: ReadonlyMap<string, RuntimeIntegration>;
  readonly integrations: ReadonlyMap<string, RuntimeIntegration>;
  readonly apiKeys: ReadonlyMap<string, CompiledApiKey>;
  readonly workflows: ReadonlyMap<string, CompiledWorkflow>;
  readonly tests: readonly Located<WorkflowTestDoc>[];
}

export interface SnapshotDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** HS256 key for tokens issued from ApiKeys; null when none is configured. */
  readonly jwtKey: Uint8Array | null;
  /** Serving needs every referenced secret present; `inlet validate` in CI does not. */
  readonly requireSecrets: boolean;
  readonly now?: Date;
  /** The providers' key sets kept across reloads (serve); a snapshot built without them has its own. */
  readonly keySets?: KeySets;
}

export type SnapshotResult =
  | { readonly ok: true; readonly snapshot: Snapshot }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export function buildSnapshot(config: LoadedConfig, deps: SnapshotDeps): SnapshotResult {
  const { set } = config;
  const diagnostics: Diagnostic[] = deps.requireSecrets ? missingSecrets(config, deps) : [];
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const apiKeys = new Map(set.apiKeys.map(({ doc }) => [doc.id, compileApiKey(doc, deps.env)]));
  const keySets = deps.keySets ?? new KeySets();
  const workflowsByIntegration = new Map<string, string[]>();
  for (const workflow of config.workflows.values()) {
    if (!workflow.enabled) continue;
    const list = workflowsByIntegration.get(workflow.integration) ?? [];
    list.push(workflow.id);
    workflowsByIntegration.set(workflow.integration, list);
  }

  // Generated configs give thousands of integrations the same dedup: each distinct one is compiled once.
  const dedups = new Map<string, { config: DedupConfig; policy: ReturnType<typeof compileDedupPolicy> }>();
  const sharedDedup = (config: DedupConfig) => {
    const key = JSON.stringify(config);
    let entry = dedups.get(key);
    if (!entry) {
      entry = { config, policy: compileDedupPolicy(config) };
      dedups.set(key, entry);
    }
    return entry;
  };

  const integrations = new Map<string, RuntimeIntegration>();
  const byEndpoint = new Map<string, RuntimeIntegration>();
  for (const { doc, source } of set.integrations) {
    const shared = doc.dedup ? sharedDedup(doc.dedup) : null;
    const dedup = shared?.policy ?? null;
    if (dedup && "error" in dedup) {
      diagnostics.push(diagnosticAt(source, ["dedup", "params", dedup.index], "dedup-param", dedup.error));
      continue;
    }
    const integration: RuntimeIntegration = Object.freeze({
      id: doc.id,
      name: doc.name,
      icon: doc.icon,
      endpoint: doc.endpoint.toLowerCase(),
      enabled: doc.enabled ?? true,
      auth: doc.auth,
      verifier: compileVerifier(doc.auth, { apiKeys, jwtKey: deps.jwtKey, env: deps.env, keySets }),
      dedupConfig: shared?.config,
      dedup,
      rateLimit: doc.rateLimit ? { text: doc.rateLimit, rate: parseRate(doc.rateLimit) } : null,
      maxBodyBytes: doc.maxBodySize ? parseSizeBytes(doc.maxBodySize) : defaults.MAX_BODY_BYTES,
      samples: doc.samples ?? defaults.SAMPLES,
      // A copy is sized to fit; the list it copies kept spare room for pushes.
      workflows: Object.freeze([...(workflowsByIntegration.get(doc.id) ?? [])]),
    });
    integrations.set(integration.id, integration);
    byEndpoint.set(integration.endpoint, integration);
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  return {
    ok: true,
    snapshot: Object.freeze({
      loadedAt: deps.now ?? new Date(),
      dir: config.dir,
      files: Object.freeze([...config.files]),
      documentCounts: Object.freeze({
        Integration: set.integrations.length,
        ApiKey: set.apiKeys.length,
        Workflow: set.workflows.length,
        WorkflowTest: set.tests.length,
      }),
      byEndpoint,
      integrations,
      apiKeys,
      workflows: config.workflows,
      tests: Object.freeze([...set.tests]),
    }),
  };
}

function missingSecrets(config: LoadedConfig, deps: SnapshotDeps): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const isSet = (name: string): boolean => (deps.env[name] ?? "") !== "";
  for (const { doc, source } of config.set.apiKeys) {
    if (doc.secretEnv !== undefined && !isSet(doc.secretEnv)) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["secretEnv"],
          "missing-secret",
          `environment variable ${doc.secretEnv} is not set`,
        ),
      );
    }
  }
  for (const { doc, source } of config.set.integrations) {
    if (doc.auth.type === "signature" && !isSet(doc.auth.secretEnv)) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["auth", "secretEnv"],
          "missing-secret",
          `environment variable ${doc.auth.secretEnv} is not set`,
        ),
      );
    }
    if (doc.auth.type === "jwt" && "apiKey" in doc.auth && deps.jwtKey === null) {
      diagnostics.push(
        diagnosticAt(
          source,
          ["auth", "type"],
          "missing-secret",
          "jwt auth needs INLET_JWT_SECRET (at least 32 bytes), or the sqlite store to keep a generated one",
        ),
      );
    }
  }
  return diagnostics;
}
