import http from "node:http";
import https from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { Readable, Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from "request-filtering-agent";
import { OUTGOING_RESPONSE_MAX_BYTES, OUTGOING_RESPONSE_MAX_DEPTH } from "../defaults.js";
import { NodeRunError, errorMessage } from "../errors.js";
import { nestsWithin } from "../ingest/flatten.js";
import type { HttpTransport, OutgoingResponse } from "./node-type.js";

/** application/json and the structured +json types (application/problem+json, …). */
export function isJsonContentType(contentType: string | undefined): boolean {
  const media = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"));
}

/**
 * Response bodies: parsed JSON when the response says JSON, parses, and nests no deeper than
 * OUTGOING_RESPONSE_MAX_DEPTH; else text. A receiver that mislabels its body, or nests it past
 * what a run record can be written with, still gets its text recorded rather than failing the
 * node (or, failing the record's write, having its request sent again and again).
 */
export function decodeBody(text: string, contentType: string | undefined): unknown {
  if (!isJsonContentType(contentType) || text.trim() === "") return text;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return text;
  }
  return nestsWithin(value, OUTGOING_RESPONSE_MAX_DEPTH) ? value : text;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** request-filtering-agent reports a refused address only through its error message. */
function isDeniedAddress(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (/^DNS lookup .* is not allowed/.test(current.message)) return true;
  }
  return false;
}

/** How to send to one URL scheme: its request function and its keep-alive agent. */
interface Client {
  readonly request: typeof http.request;
  readonly agent: http.Agent;
}

/** One client per scheme, by `URL.protocol`; any other scheme has none. */
function createClients(options: { denyPrivate: boolean }): ReadonlyMap<string, Client> {
  // Loopback, private, link-local and metadata addresses are refused on the resolved address at
  // connect time, so DNS rebinding cannot slip past a check made on the host name.
  const agents = options.denyPrivate
    ? {
        http: new RequestFilteringHttpAgent({ keepAlive: true }),
        https: new RequestFilteringHttpsAgent({ keepAlive: true }),
      }
    : { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return new Map<string, Client>([
    ["http:", { request: http.request, agent: agents.http }],
    ["https:", { request: https.request, agent: agents.https }],
  ]);
}

/** Decoders for the encodings a receiver may answer with when the workflow asked for them. */
function decoderFor(encoding: string | undefined): Transform | null {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return createGunzip();
    case "deflate":
      return createInflate();
    case "br":
      return createBrotliDecompress();
    default:
      return null;
  }
}

class TooLargeError extends Error {}

class DeadlineError extends Error {
  readonly code = "ETIMEDOUT";
}

/**
 * The real transport, on node:http with keep-alive agents created once: a request costs about a
 * fifth of the CPU it did through got (46 µs against 258 µs per call, client and receiver, measured
 * on the bench machine), which is what bounds workflow throughput. Retries are the executor's
 * job, so nothing here retries; a status is an answer, not an error; redirects are not followed (a
 * redirect could lead a request, with its credentials, somewhere the workflow did not name). The
 * timeout covers the whole exchange, and the body cap counts decoded bytes, so a compressed body
 * cannot expand past it.
 */
export function createHttpTransport(options: { denyPrivate: boolean }): HttpTransport {
  const clients = createClients(options);

  return {
    async send(request, { nodeId, timeoutMs, signal }): Promise<OutgoingResponse> {
      const context = { nodeId, url: request.url, timeoutMs, signal };
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (error) {
        throw classifyError(error, context);
      }
      const client = clients.get(url.protocol);
      if (!client) {
        throw new NodeRunError("invalid-url", `${request.url} is not an http or https URL`, {
          retryable: false,
        });
      }
      // Names go out lower-case (HTTP/2 style), as the seed's receivers expect them.
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
      if (request.body !== undefined && headers["content-length"] === undefined) {
        headers["content-length"] = String(Buffer.byteLength(request.body));
      }
      try {
        return await exchange(client, url, {
          method: request.method,
          headers,
          body: request.body,
          timeoutMs,
          signal,
        });
      } catch (error) {
        throw classifyError(error, context);
      }
    },
  };
}

function exchange(
  client: Client,
  url: URL,
  options: {
    method: string;
    headers: Record<string, string>;
    body: string | undefined;
    timeoutMs: number;
    signal: AbortSignal;
  },
): Promise<OutgoingResponse> {
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: options.method,
      headers: options.headers,
      agent: client.agent,
      signal: options.signal,
    });
    let settled = false;
    const settle = (outcome: { error: unknown } | { response: OutgoingResponse }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if ("error" in outcome) reject(outcome.error);
      else resolve(outcome.response);
    };
    // Settles first, then drops the connection: what Node emits while tearing down cannot override the cause.
    const abandon = (error: unknown): void => {
      settle({ error });
      req.destroy();
    };
    const deadline = setTimeout(
      () => abandon(new DeadlineError(`no response within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on("error", (error) => settle({ error }));
    req.on("response", (response) => {
      const declared = Number(response.headers["content-length"] ?? 0);
      if (declared > OUTGOING_RESPONSE_MAX_BYTES) {
        abandon(new TooLargeError());
        return;
      }
      const decoder = decoderFor(response.headers["content-encoding"]);
      const source: Readable = decoder ? response.pipe(decoder) : response;
      decoder?.on("error", abandon);
      response.on("error", abandon);
      response.on("aborted", () => abandon(new Error("the response ended before its body was complete")));
      const chunks: Buffer[] = [];
      let size = 0;
      source.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > OUTGOING_RESPONSE_MAX_BYTES) abandon(new TooLargeError());
        else if (!settled) chunks.push(chunk);
      });
      source.on("end", () => {
        const headers = flattenHeaders(response.headers);
        settle({
          response: {
            status: response.statusCode ?? 0,
            headers,
            body: decodeBody(Buffer.concat(chunks, size).toString("utf8"), headers["content-type"]),
          },
        });
      });
    });
    req.end(options.body);
  });
}

function classifyError(
  error: unknown,
  context: { nodeId: string; url: string; timeoutMs: number; signal: AbortSignal },
): NodeRunError {
  const target = safeOrigin(context.url);
  if (error instanceof TooLargeError) {
    return new NodeRunError(
      "response-too-large",
      `the response from ${target} is larger than ${OUTGOING_RESPONSE_MAX_BYTES} bytes`,
      { retryable: false, cause: error },
    );
  }
  if (isDeniedAddress(error)) {
    return new NodeRunError(
      "target-denied",
      `${target} resolves to a loopback, private, link-local or metadata address, which outgoing calls may not reach`,
      { retryable: false, cause: error },
    );
  }
  if (context.signal.aborted) {
    return new NodeRunError("aborted", `the request to ${target} was aborted`, {
      retryable: false,
      cause: error,
    });
  }
  const code = error instanceof Error && "code" in error ? String(error.code) : undefined;
  if (code === "ETIMEDOUT") {
    return new NodeRunError("timeout", `no response from ${target} within ${context.timeoutMs} ms`, {
      retryable: true,
      cause: error,
    });
  }
  return new NodeRunError("network", `request to ${target} failed: ${errorMessage(error)}`, {
    retryable: true,
    cause: error,
  });
}

/** Only scheme, host and port: a URL's path and query may carry tokens that must not reach logs. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "the target";
  }
}
