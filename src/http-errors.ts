import { HttpError, type ErrorFields } from "./errors.js";

/**
 * The catalogue of every HTTP error code Inlet answers with. The README's error table is checked
 * against it by a test, so a new code cannot go undocumented.
 */
export const HTTP_ERRORS = {
  "not-found": { status: 404, message: "Nothing is served at this address" },
  "unknown-endpoint": { status: 404, message: "No enabled integration listens at this endpoint" },
  "method-not-allowed": { status: 405, message: "This endpoint accepts POST and PUT only" },
  "unsupported-media-type": {
    status: 415,
    message: "Send the body as JSON (Content-Type: application/json)",
  },
  "unsupported-encoding": { status: 415, message: "Content-Encoding must be gzip, deflate or identity" },
  "invalid-json": { status: 400, message: "The body is not valid JSON" },
  "body-not-object": { status: 400, message: "The body must be a JSON object or array" },
  "invalid-request": { status: 400, message: "The request is malformed" },
  "body-too-large": { status: 413, message: "The body is larger than the integration's maxBodySize" },
  "body-too-complex": { status: 413, message: "The body is nested too deeply or has too many values" },
  unauthorized: { status: 401, message: "A valid token is required" },
  "invalid-signature": { status: 401, message: "The request signature is missing or does not match" },
  "invalid-api-key": { status: 401, message: "The API key is unknown, disabled or wrong" },
  "admin-unauthorized": { status: 401, message: "Send Authorization: Bearer <INLET_ADMIN_TOKEN>" },
  "run-not-failed": { status: 409, message: "Only a failed run can be retried" },
  "already-retried": {
    status: 409,
    message: "This run was already retried: retry the run that retried it if that one failed",
  },
  "workflow-disabled": {
    status: 409,
    message: "The run's workflow is disabled: enable it before retrying its runs",
  },
  "rate-limited": { status: 429, message: "Too many requests to this integration; retry later" },
  "too-many-failures": { status: 429, message: "Too many failed attempts from this client; retry later" },
  "store-unavailable": { status: 503, message: "The store cannot be reached; retry later" },
  "identity-provider-unavailable": {
    status: 503,
    message: "The identity provider's key set cannot be fetched; retry later",
  },
  "not-ready": { status: 503, message: "The runtime is not ready" },
  internal: { status: 500, message: "Internal error" },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

export function httpError(
  code: HttpErrorCode,
  options?: {
    message?: string;
    headers?: Record<string, string>;
    cause?: unknown;
    fields?: ErrorFields;
  },
): HttpError {
  const entry = HTTP_ERRORS[code];
  return new HttpError({
    status: entry.status,
    code,
    message: options?.message ?? entry.message,
    headers: options?.headers,
    cause: options?.cause,
    fields: options?.fields,
  });
}
