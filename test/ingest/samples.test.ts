import { describe, expect, it } from "vitest";
import { redactHeaders, REDACTED, type IncomingEvent } from "../../src/ingest/event.js";
import { createSample } from "../../src/ingest/samples.js";

describe("createSample", () => {
  const event: IncomingEvent = {
    eventId: "e-1",
    integration: "shop-cart",
    endpointId: "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11",
    method: "POST",
    time: Date.UTC(2024, 0, 2, 3, 4, 5),
    headers: redactHeaders({
      Authorization: "Bearer secret-token",
      Cookie: "session=secret",
      "X-Request-ID": "r-1",
    }),
    query: { source: "shop" },
    body: { customer_email: "a@b.c", products: [{ name: "Earwax" }] },
  };

  it("keeps the raw request with credentials redacted, and its flattened form", () => {
    const sample = createSample(event);
    expect(sample).toEqual({
      eventId: "e-1",
      receivedAt: "2024-01-02T03:04:05.000Z",
      request: {
        method: "POST",
        headers: { authorization: REDACTED, cookie: REDACTED, "x-request-id": "r-1" },
        query: { source: "shop" },
        body: { customer_email: "a@b.c", products: [{ name: "Earwax" }] },
      },
      flattened: {
        "body.customer_email": "a@b.c",
        "body.products.0.name": "Earwax",
        "headers.authorization": REDACTED,
        "headers.cookie": REDACTED,
        "headers.x-request-id": "r-1",
        "query.source": "shop",
      },
    });
    expect(JSON.stringify(sample)).not.toContain("secret");
  });

  it("redacts even an event whose headers were not redacted", () => {
    const sample = createSample({ ...event, headers: { authorization: "Bearer leaked" } });
    expect(JSON.stringify(sample)).not.toContain("leaked");
  });
});
