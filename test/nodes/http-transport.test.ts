import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTGOING_RESPONSE_MAX_BYTES, OUTGOING_RESPONSE_MAX_DEPTH } from "../../src/defaults.js";
import { createHttpTransport } from "../../src/nodes/http-transport.js";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, _body, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const transport = createHttpTransport({ denyPrivate: false });
const send = (
  url: string,
  options: { timeoutMs?: number; signal?: AbortSignal; headers?: Record<string, string>; body?: string } = {},
) =>
  transport.send(
    { method: "POST", url, headers: options.headers ?? {}, body: options.body },
    {
      nodeId: "send",
      timeoutMs: options.timeoutMs ?? 5000,
      signal: options.signal ?? new AbortController().signal,
    },
  );

describe("the node:http transport", () => {
  it("sends the rendered body with its length and lower-case header names, and parses a JSON answer", async () => {
    let seen: { rawHeaders: string[]; body: string } | undefined;
    handler = (req, body, res) => {
      seen = { rawHeaders: req.rawHeaders, body };
      res.setHeader("content-type", "application/json");
      res.end('{"ok":true}');
    };
    const response = await send(`${base}/x`, { headers: { "X-Request-ID": "r1" }, body: '{"a":"é"}' });
    expect(response).toMatchObject({ status: 200, body: { ok: true } });
    expect(seen?.body).toBe('{"a":"é"}');
    const names = seen?.rawHeaders.filter((_, index) => index % 2 === 0);
    expect(names).toContain("x-request-id");
    expect(names).not.toContain("X-Request-ID");
    expect(seen?.rawHeaders[seen.rawHeaders.indexOf("content-length") + 1]).toBe(
      String(Buffer.byteLength('{"a":"é"}')),
    );
  });

  it("keeps as text a JSON answer nested deeper than a run record can be written with", async () => {
    const nested = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
    const answers = [
      nested(OUTGOING_RESPONSE_MAX_DEPTH),
      nested(OUTGOING_RESPONSE_MAX_DEPTH + 1),
      nested(200_000),
    ];
    const bodies: unknown[] = [];
    for (const answer of answers) {
      handler = (_req, _body, res) => {
        res.setHeader("content-type", "application/json");
        res.end(answer);
      };
      bodies.push((await send(`${base}/deep`)).body);
    }
    expect(Array.isArray(bodies[0])).toBe(true);
    expect(bodies.slice(1)).toEqual(answers.slice(1));
    // What the store does with a node's output: it must not throw.
    expect(() => JSON.stringify(bodies)).not.toThrow();
  });

  it("decodes a gzip answer the workflow asked for", async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync('{"compressed":true}'));
    };
    const response = await send(`${base}/gz`, { headers: { "accept-encoding": "gzip" } });
    expect(response.body).toEqual({ compressed: true });
  });

  it("refuses a compressed answer that inflates past the size cap, without retrying", async () => {
    const bomb = gzipSync(Buffer.alloc(OUTGOING_RESPONSE_MAX_BYTES + 1024, 0x20));
    handler = (_req, _body, res) => {
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(bomb);
    };
    await expect(send(`${base}/bomb`, { headers: { "accept-encoding": "gzip" } })).rejects.toMatchObject({
      code: "response-too-large",
      retryable: false,
    });
  });

  it("gives up on a receiver that does not answer within the timeout, as a retryable error", async () => {
    handler = () => undefined;
    await expect(send(`${base}/slow`, { timeoutMs: 100 })).rejects.toMatchObject({
      code: "timeout",
      retryable: true,
      message: expect.stringContaining("100 ms") as unknown,
    });
  });

  it("stops a request in flight when aborted (shutdown), not retryable", async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const pending = send(`${base}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: "aborted", retryable: false });
  });

  it("reports a refused connection as a retryable network error naming only the origin", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(send(`http://127.0.0.1:${port}/secret-path?token=t`)).rejects.toMatchObject({
      code: "network",
      retryable: true,
      message: expect.not.stringContaining("secret-path") as unknown,
    });
  });
});
