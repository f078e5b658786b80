import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { eventually } from "../helpers/eventually.js";
import { startSink, type Sink } from "../helpers/sink.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import { tempProject, type TempProject } from "../helpers/temp-project.js";
import { SEED_BODY } from "../helpers/seed.js";

const SHIPPED_ENDPOINT = "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11";
const API_TOKEN = "seed-example-token-91b2";

/** The shipped integration as it is, except that it accepts requests without a token. */
function shippedIntegrationWithoutAuth(): string {
  const document = parseDocument(readFileSync("integrations/shop-cart.yaml", "utf8"));
  document.set("auth", { type: "none" });
  return document.toString();
}

let sink: Sink | undefined;
let project: TempProject | undefined;
let server: TestServer | undefined;

afterEach(async () => {
  await server?.shutdown();
  await sink?.close();
  project?.cleanup();
  server = undefined;
  sink = undefined;
  project = undefined;
});

describe("the seed's example, end to end", () => {
  it("sends the custom event to the sink: email, lower-case x-request-id, products as an array, bearer token", async () => {
    sink = await startSink();
    project = await tempProject({
      "integrations/shop-cart.yaml": shippedIntegrationWithoutAuth(),
      "workflows/cart-to-custom-event.yaml": readFileSync("workflows/cart-to-custom-event.yaml", "utf8"),
    });
    server = await startServer({ INLET_DIR: project.dir, API_BASE_URL: sink.url, API_TOKEN });

    const response = await fetch(`${server.url}/v1/incoming/${SHIPPED_ENDPOINT}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-ID": "req-5f1e2d" },
      body: JSON.stringify(SEED_BODY),
    });
    expect(response.status).toBe(200);
    const { eventId, status } = (await response.json()) as { eventId: string; status: string };
    expect(status).toBe("accepted");

    const call = await eventually(() => {
      const [first] = sink?.calls ?? [];
      if (!first) throw new Error("the sink has not been called yet");
      return first;
    });
    expect(call.method).toBe("POST");
    expect(call.url).toBe("/v4/events/custom");
    expect(call.headers["x-request-id"]).toBe("req-5f1e2d");
    expect(call.headers["x-source"]).toBe("inlet");
    expect(call.headers["authorization"]).toBe(`Bearer ${API_TOKEN}`);
    expect(call.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(call.body)).toEqual({
      action: "goal.achieve",
      label: "goal.achieve",
      client: { email: "example@example.com" },
      params: { eventId, orderNumber: "111111111", products: SEED_BODY.products },
    });
    expect(sink.calls).toHaveLength(1);
  });

  it("passes request data through as data: a template in it arrives literally, a quote cannot break the JSON", async () => {
    sink = await startSink();
    project = await tempProject({
      "integrations/shop-cart.yaml": shippedIntegrationWithoutAuth(),
      "workflows/cart-to-custom-event.yaml": readFileSync("workflows/cart-to-custom-event.yaml", "utf8"),
    });
    server = await startServer({ INLET_DIR: project.dir, API_BASE_URL: sink.url, API_TOKEN });
    const injection = '{{ range.constructor("return process")() }}';
    const breaking = 'x","admin":true,"y":"';

    const response = await fetch(`${server.url}/v1/incoming/${SHIPPED_ENDPOINT}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-ID": injection },
      body: JSON.stringify({
        customer_email: injection,
        order_number: breaking,
        products: [{ name: injection }],
      }),
    });
    expect(response.status).toBe(200);

    const call = await eventually(() => {
      const [first] = sink?.calls ?? [];
      if (!first) throw new Error("the sink has not been called yet");
      return first;
    });
    expect(call.headers["x-request-id"]).toBe(injection);
    const body = JSON.parse(call.body) as {
      client: Record<string, unknown>;
      params: Record<string, unknown>;
    } & Record<string, unknown>;
    expect(body.client).toEqual({ email: injection });
    expect(body.params["orderNumber"]).toBe(breaking);
    expect(body.params["products"]).toEqual([{ name: injection }]);
    expect(body["admin"]).toBeUndefined();
    expect(body.params["admin"]).toBeUndefined();
  });

  it("writes the header names lower-case on the wire", async () => {
    const received = await rawHeaderServer();
    try {
      project = await tempProject({
        "integrations/shop-cart.yaml": shippedIntegrationWithoutAuth(),
        "workflows/cart-to-custom-event.yaml": readFileSync("workflows/cart-to-custom-event.yaml", "utf8"),
      });
      server = await startServer({ INLET_DIR: project.dir, API_BASE_URL: received.url, API_TOKEN });
      const response = await fetch(`${server.url}/v1/incoming/${SHIPPED_ENDPOINT}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Request-ID": "req-77" },
        body: JSON.stringify(SEED_BODY),
      });
      expect(response.status).toBe(200);
      const names = await eventually(() => {
        const [first] = received.rawHeaderNames;
        if (!first) throw new Error("the receiver has not been called yet");
        return first;
      });
      expect(names).toContain("x-request-id");
      expect(names).not.toContain("X-Request-ID");
    } finally {
      await received.close();
    }
  });
});

/** A receiver that keeps header names exactly as they arrived (the sink sees Node.js's lower-cased view). */
async function rawHeaderServer(): Promise<{
  url: string;
  rawHeaderNames: string[][];
  close: () => Promise<void>;
}> {
  const rawHeaderNames: string[][] = [];
  const receiver = http.createServer((req, res) => {
    rawHeaderNames.push(req.rawHeaders.filter((_, index) => index % 2 === 0));
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const { port } = receiver.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rawHeaderNames,
    close: async () => {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    },
  };
}
