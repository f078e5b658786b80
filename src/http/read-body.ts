import type { IncomingMessage } from "node:http";
import { createGunzip, createInflate, type Gunzip, type Inflate } from "node:zlib";
import type { HttpError } from "../errors.js";
import { httpError } from "../http-errors.js";
import { checkJsonLimits } from "../ingest/flatten.js";

export interface BodyReading {
  /** Keep `received`, the bytes as they came, for a signature check. */
  readonly keepReceived?: boolean;
  /** Counted after gzip/deflate decoding; the bytes on the wire may not exceed it either. */
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxLeaves: number;
}

export interface RawBody {
  /** The decoded entity body. */
  readonly raw: Buffer;
  /** The bytes as they came, when a Content-Encoding compressed them and `keepReceived` asked for them. */
  readonly received?: Buffer;
}

export interface JsonBody extends RawBody {
  /**
   * `raw` decoded, the JSON text `value` was parsed from; undefined when it holds a number that
   * JSON.stringify would write otherwise (checkJsonLimits), so that what is stored is what
   * samples and the dedup hash see.
   */
  readonly text: string | undefined;
  readonly value: object;
}

type Encoding = "identity" | "gzip" | "deflate";

// RFC 6838 restricted-name characters before a +json structured-syntax suffix.
const JSON_SUFFIX_TYPE = /^application\/[a-z0-9!#$&^_.+-]+\+json$/;

/**
 * Reads a JSON request body: 415 for a non-JSON content type or an unknown encoding, 413 as soon
 * as the body is over maxBytes (before reading it when Content-Length says so), 400 for invalid
 * JSON or a scalar body, 413 for a body too deep or too large to flatten. On error it stops
 * reading; the caller answers and drops the rest (unread-body.ts).
 */
export function readJsonBody(req: IncomingMessage, limits: BodyReading): Promise<JsonBody> {
  return readBody(req, limits, (raw, received) => parseJsonBody(raw, received, limits));
}

/**
 * Reads a JSON request body as readJsonBody does, but does not parse it: a signed request's
 * signature is checked on these bytes first, so that a sender without the secret learns nothing
 * of how its body parses (parseJsonBody, once it holds).
 */
export function readRawJsonBody(req: IncomingMessage, limits: BodyReading): Promise<RawBody> {
  return readBody(req, limits, (raw, received) => ({ raw, received }));
}

function readBody<T>(
  req: IncomingMessage,
  limits: BodyReading,
  finish: (raw: Buffer, received: Buffer | undefined) => T,
): Promise<T> {
  if (!isJsonContentType(req.headers["content-type"]))
    return Promise.reject(httpError("unsupported-media-type"));
  const encoding = encodingOf(req.headers["content-encoding"]);
  if (encoding === null) return Promise.reject(httpError("unsupported-encoding"));
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limits.maxBytes) {
    return Promise.reject(httpError("body-too-large"));
  }
  // A sender that hung up while the request waited (for its auth, say) left it destroyed: it will
  // never emit "end" or "close" again, and listening for them would hold the request forever.
  if (req.destroyed)
    return Promise.reject(incomplete(new Error("the connection closed before the body was read")));
  return encoding === "identity"
    ? readIdentity(req, limits, finish)
    : readEncoded(req, encoding, limits, finish);
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const end = header.indexOf(";");
  const type = (end === -1 ? header : header.slice(0, end)).trim().toLowerCase();
  return type === "application/json" || JSON_SUFFIX_TYPE.test(type);
}

function encodingOf(header: string | undefined): Encoding | null {
  if (header === undefined) return "identity";
  switch (header.trim().toLowerCase()) {
    case "":
    case "identity":
      return "identity";
    case "gzip":
    case "x-gzip":
      return "gzip";
    case "deflate":
      return "deflate";
    default:
      return null;
  }
}

/** The common case: collect the chunks, one concat, one parse. */
function readIdentity<T>(
  req: IncomingMessage,
  limits: BodyReading,
  finish: (raw: Buffer, received: undefined) => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        stop();
        reject(httpError("body-too-large"));
      } else {
        chunks.push(chunk);
      }
    };
    // The listeners stay after the end (removing four cost more than the rest of the reading): the
    // promise is settled by then, so a late error or close changes nothing.
    let ended = false;
    const onEnd = (): void => {
      ended = true;
      const body = Buffer.concat(chunks, size);
      chunks.length = 0;
      settle(() => finish(body, undefined), resolve, reject);
    };
    const onError = (error: Error): void => {
      stop();
      reject(incomplete(error));
    };
    // Not req.complete: a request received whole can still be destroyed before its body is read.
    const onClose = (): void => {
      if (!ended) onError(new Error("the connection closed before the body was read"));
    };
    function stop(): void {
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      req.pause();
    }
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/**
 * Decodes while counting both the received and the decoded bytes, so a small "bomb" that
 * inflates past maxBytes is refused after at most one decoder chunk over the limit.
 */
function readEncoded<T>(
  req: IncomingMessage,
  encoding: "gzip" | "deflate",
  limits: BodyReading,
  finish: (raw: Buffer, received: Buffer | undefined) => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const decoder: Gunzip | Inflate = encoding === "gzip" ? createGunzip() : createInflate();
    const chunks: Buffer[] = [];
    const receivedChunks: Buffer[] = [];
    let received = 0;
    let decoded = 0;
    let settled = false;

    const fail = (error: HttpError): void => {
      if (settled) return;
      settled = true;
      detach();
      req.pause();
      decoder.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.maxBytes) {
        fail(httpError("body-too-large"));
        return;
      }
      if (limits.keepReceived) receivedChunks.push(chunk);
      if (!decoder.write(chunk)) req.pause();
    };
    let ended = false;
    const onEnd = (): void => {
      ended = true;
      decoder.end();
    };
    const onError = (error: Error): void => fail(incomplete(error));
    const onClose = (): void => {
      if (!ended) onError(new Error("the connection closed before the body was read"));
    };
    const onDrain = (): void => {
      if (!settled) req.resume();
    };
    function detach(): void {
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      decoder.off("drain", onDrain);
    }

    decoder.on("data", (chunk: Buffer) => {
      if (settled) return;
      decoded += chunk.length;
      if (decoded > limits.maxBytes) fail(httpError("body-too-large"));
      else chunks.push(chunk);
    });
    decoder.on("end", () => {
      if (settled) return;
      settled = true;
      detach();
      settle(
        () =>
          finish(
            Buffer.concat(chunks, decoded),
            limits.keepReceived ? Buffer.concat(receivedChunks, received) : undefined,
          ),
        resolve,
        reject,
      );
    });
    decoder.on("error", (error: Error) => {
      fail(httpError("invalid-request", { message: `The body is not valid ${encoding} data`, cause: error }));
    });
    decoder.on("drain", onDrain);
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/** 400 for invalid JSON or a scalar body, 413 for a body too deep or too large to flatten. */
export function parseJsonBody(raw: Buffer, received: Buffer | undefined, limits: BodyReading): JsonBody {
  const text = raw.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw httpError("invalid-json", {
      message: `The body is not valid JSON: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (typeof value !== "object" || value === null) throw httpError("body-not-object");
  const { numbersRoundTrip } = checkJsonLimits(value, limits);
  return { raw, received, text: numbersRoundTrip ? text : undefined, value };
}

function settle<T>(compute: () => T, resolve: (value: T) => void, reject: (error: unknown) => void): void {
  try {
    resolve(compute());
  } catch (error) {
    reject(error);
  }
}

function incomplete(cause: Error): HttpError {
  return httpError("invalid-request", { message: "The request ended before its body was complete", cause });
}
