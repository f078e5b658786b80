import type { SchemaObject } from "ajv";
import type { ConfigPath, TemplateCompiler, TemplateScope } from "../templates/compile-value.js";

/** A request an outgoing node sends; header names as written, values already rendered. */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

export interface OutgoingResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON when the response is JSON, else text. */
  readonly body: unknown;
}

/**
 * Sends outgoing requests. The real one is node:http (http-transport.ts); `inlet test` swaps in canned responses.
 * Rejects with NodeRunError (retryable for network errors and timeouts).
 */
export interface HttpTransport {
  send(
    request: OutgoingRequest,
    options: { readonly nodeId: string; readonly timeoutMs: number; readonly signal: AbortSignal },
  ): Promise<OutgoingResponse>;
}

export interface CompileDeps {
  /** Compiles template strings; positions of errors are reported relative to the node. */
  readonly templates: TemplateCompiler;
  /** Reports a value the node's schema cannot express (a range), at its path in the node. */
  readonly invalid: (path: ConfigPath, message: string) => void;
}

export interface RunContext {
  /** The read-only template context: request, vars, nodes, env, run, workflow. */
  readonly scope: TemplateScope;
  readonly http: HttpTransport;
  readonly signal: AbortSignal;
}

export interface NodeResult {
  /** Kept in the run record and exposed to later templates as `nodes.<id>`. */
  readonly output?: unknown;
  /** Values to merge into `vars`. */
  readonly vars?: Readonly<Record<string, unknown>>;
  /** Overrides the graph's successors (a condition's chosen branch). */
  readonly next?: readonly string[];
}

export interface RetryPolicy {
  readonly attempts: number;
}

export interface CompiledNode {
  run(ctx: RunContext): Promise<NodeResult>;
  /** Absent: one attempt. The executor retries only NodeRunErrors marked retryable. */
  readonly retry?: RetryPolicy;
  /**
   * Rebuilds the result from the recorded output when a resumed run skips this node because it
   * already succeeded (its vars, its chosen branch). Absent: the output alone.
   */
  restore?(output: unknown): NodeResult;
}

/** A node type plugin: one file per type, listed once in registry.ts. */
export interface NodeType<Config = Record<string, unknown>> {
  /** The YAML `type` value. */
  readonly type: string;
  readonly description: string;
  /** JSON Schema of this type's own fields (id, type, name and next are common to all nodes). */
  readonly schema: SchemaObject;
  /** Fields naming the successor node ids instead of `next` (a condition's then/else). */
  readonly branchFields?: readonly string[];
  /** A terminal node has no successors, not even the following node. */
  readonly terminal?: boolean;
  /** Called once per snapshot with schema-valid config. */
  compile(config: Config, deps: CompileDeps): CompiledNode;
}
