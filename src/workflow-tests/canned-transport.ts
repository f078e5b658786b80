import type { CannedResponse } from "../config/documents.js";
import type { HttpTransport, OutgoingResponse } from "../nodes/node-type.js";
import { decodeBody } from "../nodes/http-transport.js";

/** One outgoing request as a workflow test sees it; a JSON body is parsed so it can be matched. */
export interface RecordedCall {
  readonly node: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface CannedTransport extends HttpTransport {
  /** Every request sent, in order, retries included. */
  readonly calls: readonly RecordedCall[];
}

const DEFAULT_RESPONSE: CannedResponse = { status: 200, body: {} };

function toResponse(canned: CannedResponse): OutgoingResponse {
  const body = canned.body ?? {};
  const headers = Object.fromEntries(
    Object.entries(canned.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  if (headers["content-type"] === undefined && typeof body !== "string")
    headers["content-type"] = "application/json";
  return { status: canned.status ?? 200, headers, body };
}

/**
 * Answers outgoing requests from a WorkflowTest case's `responses` without any network: per node,
 * one response for every attempt, or a list answered attempt by attempt (the last one repeats).
 */
export function createCannedTransport(
  responses: Readonly<Record<string, CannedResponse | readonly CannedResponse[]>>,
): CannedTransport {
  const calls: RecordedCall[] = [];
  const answered = new Map<string, number>();
  return {
    calls,
    async send(request, { nodeId }) {
      const contentType = Object.entries(request.headers).find(
        ([name]) => name.toLowerCase() === "content-type",
      );
      calls.push({
        node: nodeId,
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body === undefined ? undefined : decodeBody(request.body, contentType?.[1]),
      });
      const index = answered.get(nodeId) ?? 0;
      answered.set(nodeId, index + 1);
      const configured = responses[nodeId];
      const list: readonly CannedResponse[] =
        configured === undefined ? [DEFAULT_RESPONSE] : Array.isArray(configured) ? configured : [configured];
      return toResponse(list[Math.min(index, list.length - 1)] ?? DEFAULT_RESPONSE);
    },
  };
}
