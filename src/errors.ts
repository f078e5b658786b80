import type { Diagnostic } from "./config/diagnostics.js";

/** Base of every error Inlet raises on purpose; `code` is stable and machine-readable. */
export class InletError extends Error {
  readonly code: string;
  /** A user error is a problem with input or config, not a bug: logged below `error`. */
  readonly userError: boolean;

  constructor(code: string, message: string, options?: { cause?: unknown; userError?: boolean }) {
    super(message, { cause: options?.cause });
    this.name = new.target.name;
    this.code = code;
    this.userError = options?.userError ?? true;
  }
}

/** The config cannot be used; carries every problem found, each with file:line:col. */
export class ConfigError extends InletError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    super("config-invalid", `${diagnostics.length} problem(s) in the config`);
    this.diagnostics = diagnostics;
  }
}

/** Never `code` or `message`: the body's own would be overwritten. */
export type ErrorFields = Readonly<Record<string, string>> & {
  readonly code?: never;
  readonly message?: never;
};

/** An answer other than success; turned into `{"error":{"code","message"}}` at the edge. */
export class HttpError extends InletError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Written beside `code` and `message`, for a script to act on without parsing the message. */
  readonly fields: ErrorFields;

  constructor(options: {
    status: number;
    code: string;
    message: string;
    headers?: Record<string, string>;
    cause?: unknown;
    fields?: ErrorFields;
  }) {
    super(options.code, options.message, { cause: options.cause, userError: options.status < 500 });
    this.status = options.status;
    this.headers = options.headers ?? {};
    this.fields = options.fields ?? {};
  }
}

/** A node failed; the executor decides from these fields, never from the message, whether to retry. */
export class NodeRunError extends InletError {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The store could not be reached or failed; the ingress answers 503 + Retry-After. */
export class StoreUnavailableError extends InletError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("store-unavailable", message, { cause: options?.cause, userError: false });
  }
}

export function isUserError(error: unknown): boolean {
  return error instanceof InletError && error.userError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
