import { describe, expect, it } from "vitest";
import { redactHeaders, serializeEvent, type IncomingEvent } from "../../src/ingest/event.js";

/** Every field set, so a field serializeEvent leaves out shows as a difference. */
const event: IncomingEvent = {
  eventId: "0193b0a0-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
  integration: 'shop "cart"\n',
  endpointId: "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11",
  method: "PUT",
  time: 1_732_000_000_123,
  headers: { "content-type": "application/json", "x-note": "a\u2028b" },
  query: { a: "1", b: ["2", "3"] },
  body: { order: 7, items: [{ sku: "A-1" }], empty: {} },
};

describe("serializeEvent", () => {
  it("is JSON.stringify of the event without the body's text", () => {
    expect(serializeEvent(event)).toBe(JSON.stringify(event));
  });

  it("with the body's text, parses to the same event, the text kept as the sender wrote it", () => {
    const bodyJson = '{"order" : 7, "items":[ {"sku":"A-1"} ],\n"empty":{}}';
    const json = serializeEvent(event, bodyJson);
    expect(JSON.parse(json)).toStrictEqual(JSON.parse(JSON.stringify(event)));
    expect(json).toContain(`"body":${bodyJson}}`);
  });
});

describe("redactHeaders", () => {
  it("redacts credentials, joins repeated headers, and keeps a header named __proto__ as a header", () => {
    // JSON.parse makes __proto__ an own key, as an object literal would not.
    const headers = redactHeaders(
      JSON.parse('{"Authorization":"Bearer x","X-Tag":["a","b"],"__proto__":"p"}') as Record<
        string,
        string | string[]
      >,
    );
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.hasOwn(headers, "__proto__")).toBe(true);
    expect(JSON.parse(JSON.stringify(headers))).toEqual(
      JSON.parse('{"authorization":"[redacted]","x-tag":"a, b","__proto__":"p"}'),
    );
  });
});
