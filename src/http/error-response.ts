import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import * as defaults from "../defaults.js";
import { errorMessage, HttpError, StoreUnavailableError } from "../errors.js";
import { httpError } from "../http-errors.js";

export type ErrorMapper = (error: unknown) => HttpError;

/**
 * Maps any thrown value to the HttpError to answer with, logging what an operator must see: an
 * unexpected error, and an outage of something Inlet depends on (the store, the identity
 * provider's key set: a 5xx with a cause). An outage is logged once per Retry-After period, not
 * once per refused request, so an outage under load does not flood the logs.
 */
export function createErrorMapper(logger: Logger, now: () => number = Date.now): ErrorMapper {
  const outages = new Map<string, { loggedAt: number; suppressed: number }>();

  /** `answer` is what the sender gets: its Retry-After is how long the outage's log stays quiet. */
  function logOutage(answer: HttpError, error: unknown, message: string): void {
    const { code } = answer;
    const quietMs = Number(answer.headers["Retry-After"] ?? defaults.STORE_UNAVAILABLE_RETRY_AFTER_S) * 1000;
    const outage = outages.get(code);
    if (outage && now() - outage.loggedAt < quietMs) {
      outage.suppressed += 1;
      return;
    }
    logger.warn({ err: error, suppressed: outage?.suppressed ?? 0 }, message);
    outages.set(code, { loggedAt: now(), suppressed: 0 });
  }

  return (error) => {
    if (error instanceof HttpError) {
      if (error.status >= 500 && error.cause !== undefined) {
        logOutage(
          error,
          error,
          `${error.message}: answering ${error.status} (${errorMessage(rootCause(error))})`,
        );
      }
      return error;
    }
    if (error instanceof StoreUnavailableError) {
      const answer = httpError("store-unavailable", {
        headers: { "Retry-After": String(defaults.STORE_UNAVAILABLE_RETRY_AFTER_S) },
      });
      logOutage(answer, error, "store unavailable: answering 503");
      return answer;
    }
    logger.error({ err: error }, "unexpected error");
    return httpError("internal");
  };
}

/** The innermost cause: "fetch failed" says less than the refused connection under it. */
function rootCause(error: Error): unknown {
  let cause: unknown = error;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  return cause;
}

/** Writes `{"error":{"code","message"}}` with the error's status and headers. */
export function sendError(
  res: ServerResponse,
  error: HttpError,
  extraHeaders?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  res.writeHead(error.status, {
    ...extraHeaders,
    ...error.headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers?: Record<string, string>,
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}
