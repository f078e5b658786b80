import http from "node:http";
import https from "node:https";
import got, { type Agents, type Response } from "got";
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from "request-filtering-agent";
import { OUTGOING_RESPONSE_MAX_BYTES } from "../defaults.js";
import { NodeRunError, errorMessage } from "../errors.js";
import type { HttpTransport, OutgoingResponse } from "./node-type.js";

/** application/json and the structured +json types (application/problem+json, …). */
export function isJsonContentType(contentType: string | undefined): boolean {
  const media = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"));
}

/** Response bodies: parsed JSON when the response says JSON (and parses), else text. */
export function decodeBody(text: string, contentType: string | undefined): unknown {
  if (!isJsonContentType(contentType) || text.trim() === "") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A receiver that mislabels its body still gets its text recorded, rather than failing the node.
    return text;
  }
}

function flattenHeaders(headers: Response["headers"]): Record<string, string> {
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

function createAgents(options: { denyPrivate: boolean }): Agents {
  // Loopback, private, link-local and metadata addresses are refused on the resolved address at
  // connect time, so DNS rebinding cannot slip past a check made on the host name.
  if (options.denyPrivate) {
    return {
      http: new RequestFilteringHttpAgent({ keepAlive: true }),
      https: new RequestFilteringHttpsAgent({ keepAlive: true }),
    };
  }
  return { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
}

/**
 * The real transport: got with keep-alive agents created once. Retries are the executor's job,
 * so got never retries, never throws on a status, and never follows redirects (a redirect could
 * lead a request, with its credentials, somewhere the workflow did not name).
 */
export function createGotTransport(options: { denyPrivate: boolean }): HttpTransport {
  const client = got.extend({
    agent: createAgents(options),
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    allowGetBody: true,
  });

  return {
    async send(request, { nodeId, timeoutMs, signal }): Promise<OutgoingResponse> {
      let tooLarge = false;
      const pending = client(request.url, {
        method: request.method as "GET",
        headers: { ...request.headers },
        body: request.body,
        timeout: { request: timeoutMs },
        signal,
        responseType: "buffer",
      });
      // Counts decoded bytes, so a compressed body cannot expand past the cap either.
      pending.on("downloadProgress", ({ transferred, total }) => {
        if (transferred > OUTGOING_RESPONSE_MAX_BYTES || (total ?? 0) > OUTGOING_RESPONSE_MAX_BYTES) {
          tooLarge = true;
          pending.cancel();
        }
      });
      let response: Response<Buffer>;
      try {
        response = await pending;
      } catch (error) {
        throw classifyError(error, {
          nodeId,
          url: request.url,
          tooLarge,
          aborted: signal.aborted,
          timeoutMs,
        });
      }
      const headers = flattenHeaders(response.headers);
      return {
        status: response.statusCode,
        headers,
        body: decodeBody(response.body.toString("utf8"), headers["content-type"]),
      };
    },
  };
}

function classifyError(
  error: unknown,
  context: { nodeId: string; url: string; tooLarge: boolean; aborted: boolean; timeoutMs: number },
): NodeRunError {
  const target = safeOrigin(context.url);
  if (context.tooLarge) {
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
  if (context.aborted) {
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
