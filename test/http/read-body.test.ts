import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  MAX_BODY_DEPTH,
  MAX_BODY_LEAVES,
  UNREAD_BODY_DRAIN_MAX_BYTES,
  UNREAD_BODY_DRAIN_MS,
} from "../../src/defaults.js";
import { HttpError } from "../../src/errors.js";
import { readJsonBody, type JsonBody } from "../../src/http/read-body.js";
import { drainUnreadBody } from "../../src/http/unread-body.js";
import { flatten } from "../../src/ingest/flatten.js";

const MAX_BYTES = 1024 * 1024;

type Outcome = ({ ok: true } & JsonBody) | { ok: false; error: unknown };

interface Answer {
  status: number;
  body: {
    code?: string;
    rawSha256?: string;
    text?: string | null;
    value?: unknown;
    flattened?: Record<string, unknown>;
  };
}

/** readJsonBody with the ingress's limits; what it resolves or rejects with, as a value. */
function readOutcome(req: http.IncomingMessage): Promise<Outcome> {
  return readJsonBody(req, {
    maxBytes: MAX_BYTES,
    maxDepth: MAX_BODY_DEPTH,
    maxLeaves: MAX_BODY_LEAVES,
  }).then(
    (body): Outcome => ({ ok: true, ...body }),
    (error: unknown): Outcome => ({ ok: false, error }),
  );
}

describe("readJsonBody on a real node:http server", () => {
  let server: http.Server;
  let port: number;
  const outcomes: Promise<Outcome>[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const outcome = readOutcome(req);
      outcomes.push(outcome);
      void outcome.then((result) => answer(req, res, result));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // What the ingress does: answer, and drop the rest of a body that was not read.
  function answer(req: http.IncomingMessage, res: http.ServerResponse, result: Outcome): void {
    if (result.ok) {
      const text = JSON.stringify({
        rawSha256: createHash("sha256").update(result.raw).digest("hex"),
        text: result.text ?? null,
        value: result.value,
        flattened: flatten({ body: result.value }),
      });
      res.writeHead(200, { "Content-Type": "application/json" }).end(text);
      return;
    }
    const status = result.error instanceof HttpError ? result.error.status : 500;
    const code = result.error instanceof HttpError ? result.error.code : "unexpected";
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ code }));
    if (!req.complete) drainUnreadBody(req);
  }

  function send(options: {
    headers?: Record<string, string>;
    body?: Buffer | string;
    chunks?: Iterable<Buffer>;
  }) {
    return new Promise<Answer>((resolve, reject) => {
      const req = http.request({
        port,
        host: "127.0.0.1",
        method: "POST",
        path: "/",
        headers: options.headers,
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      });
      // Writing the rest of a refused body fails once the server closes; the answer still arrives.
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
      });
      if (options.chunks) {
        for (const chunk of options.chunks) {
          if (req.destroyed) break;
          req.write(chunk);
        }
        req.end();
      } else {
        req.end(options.body);
      }
    });
  }

  const json = { "Content-Type": "application/json" };
  const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

  it("parses a JSON object and keeps the raw bytes", async () => {
    const text = '{"customer_email":"a@b.c","products":[{"name":"Earwax"}]}';
    const { status, body } = await send({ headers: json, body: text });
    expect(status).toBe(200);
    expect(body.value).toEqual({ customer_email: "a@b.c", products: [{ name: "Earwax" }] });
    expect(body.rawSha256).toBe(sha256(text));
  });

  it("gives the decoded text as sent, unless it holds a number JSON.stringify would write otherwise", async () => {
    const text = '{ "a" : [1, 2.50],\n "a": "last" }';
    expect((await send({ headers: json, body: text })).body.text).toBe(text);
    const gzipped = await send({ headers: { ...json, "Content-Encoding": "gzip" }, body: gzipSync(text) });
    expect(gzipped.body.text).toBe(text);
    // 1e400 parses to Infinity and -0 to -0; stored as text they would not read back as samples show them.
    for (const odd of ['{"n": 1e400}', '{"n": [-0]}']) {
      expect((await send({ headers: json, body: odd })).body).toMatchObject({ text: null });
    }
  });

  it("accepts arrays, charset parameters and +json media types", async () => {
    expect(
      (await send({ headers: { "Content-Type": "application/json; charset=utf-8" }, body: "[1]" })).status,
    ).toBe(200);
    expect((await send({ headers: { "Content-Type": "Application/vnd.api+JSON" }, body: "{}" })).status).toBe(
      200,
    );
  });

  it.each([
    [{ "Content-Type": "text/plain" }, "unsupported-media-type"],
    [{ "Content-Type": "application/x-www-form-urlencoded" }, "unsupported-media-type"],
    [{ "Content-Type": "application/jsonp" }, "unsupported-media-type"],
    [{}, "unsupported-media-type"],
    [{ ...json, "Content-Encoding": "br" }, "unsupported-encoding"],
    [{ ...json, "Content-Encoding": "gzip, gzip" }, "unsupported-encoding"],
  ])("answers 415 for %j", async (headers, code) => {
    expect(await send({ headers, body: "{}" })).toEqual({ status: 415, body: { code } });
  });

  it.each([
    ["{", "invalid-json"],
    ["", "invalid-json"],
    ['"text"', "body-not-object"],
    ["null", "body-not-object"],
    ["42", "body-not-object"],
  ])("answers 400 for the body %j", async (text, code) => {
    expect(await send({ headers: json, body: text })).toEqual({ status: 400, body: { code } });
  });

  it("decodes gzip and deflate; raw is the decoded body a sender signs", async () => {
    const text = JSON.stringify({ order_number: "1", note: "x".repeat(5000) });
    for (const [encoding, data] of [
      ["gzip", gzipSync(text)],
      ["deflate", deflateSync(text)],
    ] as const) {
      const { status, body } = await send({ headers: { ...json, "Content-Encoding": encoding }, body: data });
      expect(status).toBe(200);
      expect(body.rawSha256).toBe(sha256(text));
    }
  });

  it("answers 400 for a body that is not valid gzip", async () => {
    const answer = await send({ headers: { ...json, "Content-Encoding": "gzip" }, body: "{}" });
    expect(answer).toEqual({ status: 400, body: { code: "invalid-request" } });
  });

  it("refuses a gzip bomb of a few KB that expands past maxBytes", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MAX_BYTES, " "), { level: 9 });
    expect(bomb.length).toBeLessThan(MAX_BYTES / 4);
    const answer = await send({ headers: { ...json, "Content-Encoding": "gzip" }, body: bomb });
    expect(answer).toEqual({ status: 413, body: { code: "body-too-large" } });
  });

  it("counts the decoded bytes against maxBytes", async () => {
    const text = JSON.stringify({ big: "y".repeat(MAX_BYTES) });
    const answer = await send({ headers: { ...json, "Content-Encoding": "gzip" }, body: gzipSync(text) });
    expect(answer).toEqual({ status: 413, body: { code: "body-too-large" } });
  });

  it("refuses a 10 MB body at once when Content-Length says so", async () => {
    const body = Buffer.alloc(10 * MAX_BYTES, " ");
    const answer = await send({ headers: { ...json, "Content-Length": String(body.length) }, body });
    expect(answer).toEqual({ status: 413, body: { code: "body-too-large" } });
  });

  it("refuses a 10 MB chunked body while streaming it", async () => {
    function* chunks() {
      for (let i = 0; i < 160; i += 1) yield Buffer.alloc(64 * 1024, " ");
    }
    const answer = await send({ headers: { ...json, "Transfer-Encoding": "chunked" }, chunks: chunks() });
    expect(answer).toEqual({ status: 413, body: { code: "body-too-large" } });
  });

  it("refuses JSON nested 5000 deep with 413 body-too-complex", async () => {
    const text = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    expect(await send({ headers: json, body: text })).toEqual({
      status: 413,
      body: { code: "body-too-complex" },
    });
  });

  it("refuses more leaves than the limit", async () => {
    const text = JSON.stringify(Array.from({ length: MAX_BODY_LEAVES + 1 }, () => 0));
    expect(await send({ headers: json, body: text })).toEqual({
      status: 413,
      body: { code: "body-too-complex" },
    });
  });

  it("keeps __proto__ as data and pollutes nothing", async () => {
    const text = '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}';
    const { status, body } = await send({ headers: json, body: text });
    expect(status).toBe(200);
    expect(body.flattened).toEqual({
      "body.__proto__.polluted": 1,
      "body.constructor.prototype.polluted": 2,
    });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  function rawRequest(text: string | Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1");
      const chunks: Buffer[] = [];
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
      socket.end(text);
    });
  }

  it("reads only Content-Length bytes when the body is longer than declared", async () => {
    const before = outcomes.length;
    const reply = await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":1}',
    );
    // node:http answers the trailing bytes as a malformed next request; the body read is the first 5 bytes.
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    const outcome = await outcomes[before]!;
    expect(outcome.ok ? null : outcome.error).toMatchObject({ status: 400, code: "invalid-json" });
  });

  it("gives up, without hanging, when the connection ends before Content-Length bytes came", async () => {
    const before = outcomes.length;
    await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    const outcome = await outcomes[before]!;
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? null : outcome.error).toMatchObject({ status: 400, code: "invalid-request" });
  });
  it("gives up, without hanging, when the connection ends before a gzip body's end", async () => {
    const before = outcomes.length;
    const gzipped = gzipSync(JSON.stringify({ note: "x".repeat(5000) }));
    await rawRequest(
      Buffer.concat([
        Buffer.from(
          "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n" +
            `Content-Length: ${gzipped.length}\r\n\r\n`,
        ),
        gzipped.subarray(0, gzipped.length - 8),
      ]),
    );
    const outcome = await outcomes[before]!;
    expect(outcome.ok ? null : outcome.error).toMatchObject({ status: 400, code: "invalid-request" });
  });
});

describe("readJsonBody of a request whose sender hung up before it was read", () => {
  // The ingress awaits auth and rate limits before it reads the body; a sender can leave meanwhile.
  let server: http.Server;
  let port: number;
  const outcomes: Promise<Outcome>[] = [];

  beforeAll(async () => {
    server = http.createServer((req) => {
      outcomes.push(new Promise<void>((resolve) => req.once("close", resolve)).then(() => readOutcome(req)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function sendAndHangUp(text: string): Promise<Outcome> {
    const before = outcomes.length;
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.write(text, () => resolve()));
    await expect.poll(() => outcomes.length).toBeGreaterThan(before);
    socket.destroy();
    return outcomes[before]!;
  }

  it.each([
    ["part of its body", '{"a":'],
    ["its whole body", '{"a":1}'.padEnd(100, " ")],
  ])("settles, refusing it as incomplete, when the sender sent %s", async (_what, body) => {
    const outcome = await sendAndHangUp(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n${body}`,
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? null : outcome.error).toMatchObject({ status: 400, code: "invalid-request" });
  });
});

describe("drainUnreadBody after an answer given before the body was read", () => {
  // The server answers 401 at once, as the ingress does for a missing token, and drops the body.
  // Only setTimeout is faked, so the drain's time limit runs only when a test advances it.
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    server = http.createServer((req, res) => {
      res.writeHead(401, { "Content-Type": "application/json" }).end('{"code":"unauthorized"}');
      drainUnreadBody(req);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    vi.useRealTimers();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A raw connection: what it has received, and a promise of its close. */
  function connect() {
    const socket = net.connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    const answers = () =>
      Buffer.concat(received)
        .toString()
        .match(/^HTTP\/1\.1 401 /gm)?.length ?? 0;
    return { socket, closed, answers };
  }

  const head = (framing: string) =>
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;

  it("keeps the connection once the refused body has come, for the sender's next request", async () => {
    const { socket, answers } = connect();
    const body = "x".repeat(200 * 1024);
    socket.write(head(`Content-Length: ${body.length}`) + body);
    socket.write(head(`Content-Length: ${body.length}`) + body);
    await expect.poll(answers).toBe(2);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  });

  it("cuts off at once a sender that declares more than UNREAD_BODY_DRAIN_MAX_BYTES", async () => {
    const { socket, closed } = connect();
    socket.write(head(`Content-Length: ${UNREAD_BODY_DRAIN_MAX_BYTES + 1}`) + "x".repeat(1024));
    await closed;
  });

  it("cuts off a chunked sender once it has sent more than UNREAD_BODY_DRAIN_MAX_BYTES", async () => {
    const { socket, closed } = connect();
    socket.write(head("Transfer-Encoding: chunked"));
    const chunk = `${MAX_BYTES.toString(16)}\r\n${"x".repeat(MAX_BYTES)}\r\n`;
    let sent = 0;
    while (!socket.destroyed && sent <= UNREAD_BODY_DRAIN_MAX_BYTES) {
      await new Promise((resolve) => socket.write(chunk, resolve));
      sent += MAX_BYTES;
    }
    await closed;
  });

  it("cuts off a sender still sending UNREAD_BODY_DRAIN_MS after the answer", async () => {
    const { socket, closed, answers } = connect();
    socket.write(head("Transfer-Encoding: chunked") + "4\r\nxxxx\r\n");
    await expect.poll(answers).toBe(1);
    vi.advanceTimersByTime(UNREAD_BODY_DRAIN_MS);
    await closed;
  });
});
