import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request the sink received. */
export interface SinkCall {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Lower-case names, as Node.js parses them. */
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface SinkAnswer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  readonly body?: unknown;
}

/** How the sink answers the n-th call (0-based); "hang" never answers; a promise answers when it settles. */
export type SinkResponder = (call: SinkCall, index: number) => SinkAnswer | "hang" | Promise<SinkAnswer>;

export interface Sink {
  /** Base URL, e.g. http://127.0.0.1:43121 */
  readonly url: string;
  /** host:port, for templates that add the scheme themselves. */
  readonly host: string;
  readonly calls: readonly SinkCall[];
  respond(responder: SinkResponder): void;
  close(): Promise<void>;
}

/** A loopback HTTP server on port 0 that records every request and answers as told (default 200 {"ok":true}). */
export async function startSink(): Promise<Sink> {
  const calls: SinkCall[] = [];
  let responder: SinkResponder = () => ({ status: 200, body: { ok: true } });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const call: SinkCall = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      calls.push(call);
      const answer = responder(call, calls.length - 1);
      if (answer === "hang") return;
      Promise.resolve(answer)
        .then((settled) => reply(res, settled))
        // A responder that fails drops the connection, which the client sees as a network error.
        .catch((error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))));
    });
  });
  function reply(res: http.ServerResponse, answer: SinkAnswer): void {
    const body = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {});
    const contentType = typeof answer.body === "string" ? "text/plain" : "application/json";
    res.writeHead(answer.status ?? 200, { "content-type": contentType, ...answer.headers });
    res.end(body);
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    respond(next) {
      responder = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
