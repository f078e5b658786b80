/** The admin API's answers (SPEC 6) as the console reads them. */

export type AuthSettings =
  | { readonly type: "none" }
  | { readonly type: "jwt"; readonly apiKey?: string; readonly jwks?: string; readonly issuer?: string }
  | {
      readonly type: "signature";
      readonly header?: string;
      readonly prefix?: string;
      readonly secretEnv?: string;
    };

export type DedupSettings =
  | { readonly params: readonly string[]; readonly ttl?: string; readonly ttlMs: number }
  | { readonly header: string; readonly ttl?: string; readonly ttlMs: number };

export interface Integration {
  readonly id: string;
  readonly name: string | null;
  readonly endpoint: string;
  readonly url: string;
  readonly enabled: boolean;
  readonly auth: AuthSettings;
  readonly dedup: DedupSettings | null;
  readonly rateLimit: string | null;
  readonly samples: number;
  readonly workflows: readonly string[];
  readonly counts: { readonly requests: number; readonly duplicates: number };
}

export interface Sample {
  readonly eventId: string;
  readonly receivedAt: string;
  readonly request: { readonly method: string };
  readonly flattened: Readonly<Record<string, unknown>>;
}

export type RunStatus = "queued" | "running" | "succeeded" | "failed";
export const RUN_STATUSES: readonly RunStatus[] = ["queued", "running", "succeeded", "failed"];

export interface RunSummary {
  readonly runId: string;
  readonly workflow: string;
  readonly eventId: string;
  readonly status: RunStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
}

export interface NodeRecord {
  readonly id: string;
  readonly type: string;
  readonly status: "running" | "succeeded" | "failed";
  readonly attempts: number;
  readonly startedAt: string;
  readonly durationMs: number | null;
  readonly output: unknown;
  readonly error: string | null;
}

export interface Run extends RunSummary {
  readonly nodes: readonly NodeRecord[];
  /** The run that retried this failed run; a failed run is retried once. */
  readonly retriedBy: string | null;
}

export interface ConfigStatus {
  readonly loadedAt: string;
  readonly dir: string;
  readonly files: readonly string[];
  readonly documents: Readonly<Record<string, number>>;
  readonly lastReload: {
    readonly at: string;
    readonly ok: boolean;
    readonly errors: readonly {
      readonly file: string;
      readonly line: number;
      readonly col: number;
      readonly code: string;
      readonly message: string;
    }[];
  };
}
