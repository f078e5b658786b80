import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import * as defaults from "../defaults.js";
import { HttpError, StoreUnavailableError } from "../errors.js";
import { httpError } from "../http-errors.js";

/** Any thrown value → the HttpError to answer with. Unexpected errors are logged here, once. */
export function toHttpError(error: unknown, logger: Logger): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof StoreUnavailableError) {
    logger.warn({ err: error }, "store unavailable");
    return httpError("store-unavailable", {
      headers: { "Retry-After": String(defaults.STORE_UNAVAILABLE_RETRY_AFTER_S) },
    });
  }
  logger.error({ err: error }, "unexpected error");
  return httpError("internal");
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
