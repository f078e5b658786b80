import { describe, expect, it } from "vitest";
import { IDP_UNAVAILABLE_RETRY_AFTER_S, STORE_UNAVAILABLE_RETRY_AFTER_S } from "../../src/defaults.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { httpError } from "../../src/http-errors.js";
import { createErrorMapper } from "../../src/http/error-response.js";
import { memoryLogger } from "../helpers/start-server.js";

function mapper(): {
  map: ReturnType<typeof createErrorMapper>;
  lines: () => string[];
  advance: (ms: number) => void;
} {
  const { logger, lines } = memoryLogger();
  let clock = 0;
  return {
    map: createErrorMapper(logger, () => clock),
    lines,
    advance: (ms) => {
      clock += ms;
    },
  };
}

/** As src/auth/jwks.ts throws it: our wrapper, over fetch's own error, over the socket's. */
const idpDown = () =>
  httpError("identity-provider-unavailable", {
    headers: { "Retry-After": String(IDP_UNAVAILABLE_RETRY_AFTER_S) },
    cause: new Error("the JWK set could not be fetched", {
      cause: new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") }),
    }),
  });

describe("the ingress error mapper", () => {
  it("logs why the identity provider's key set is unavailable, once per Retry-After period", () => {
    const { map, lines, advance } = mapper();
    for (let request = 0; request < 3; request += 1) expect(map(idpDown()).status).toBe(503);
    expect(lines()).toHaveLength(1);
    expect((JSON.parse(lines()[0]!) as { msg: string }).msg).toContain("connect ECONNREFUSED 127.0.0.1:9");
    advance(IDP_UNAVAILABLE_RETRY_AFTER_S * 1000 - 1);
    map(idpDown());
    expect(lines()).toHaveLength(1);
    advance(1);
    map(idpDown());
    expect(lines()).toHaveLength(2);
    expect(JSON.parse(lines()[1]!)).toMatchObject({ suppressed: 3 });
  });

  it("names the refused connection under a dual-stack AggregateError, and survives a cause chain that loops", () => {
    const { map, lines } = mapper();
    const refused = new AggregateError([new Error("connect ECONNREFUSED ::1:9")], "");
    map(
      httpError("identity-provider-unavailable", {
        cause: new Error("the JWK set could not be fetched", {
          cause: new TypeError("fetch failed", { cause: refused }),
        }),
      }),
    );
    const looping = new Error("the JWK set could not be fetched");
    looping.cause = looping;
    const { map: mapLooping, lines: loopingLines } = mapper();
    mapLooping(httpError("identity-provider-unavailable", { cause: looping }));
    expect((JSON.parse(lines()[0]!) as { msg: string }).msg).toContain("(connect ECONNREFUSED ::1:9)");
    expect(loopingLines()).toHaveLength(1);
  });

  it("logs a store outage once per its own Retry-After period", () => {
    const { map, lines, advance } = mapper();
    const storeDown = () => new StoreUnavailableError("SQLite store failed: disk I/O error");
    map(storeDown());
    advance(STORE_UNAVAILABLE_RETRY_AFTER_S * 1000 - 1);
    map(storeDown());
    advance(1);
    map(storeDown());
    expect(lines()).toHaveLength(2);
  });

  it("logs a store outage apart from an identity provider outage", () => {
    const { map, lines } = mapper();
    map(idpDown());
    expect(map(new StoreUnavailableError("SQLite store failed: disk I/O error"))).toMatchObject({
      status: 503,
      code: "store-unavailable",
    });
    expect(lines().map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      expect.stringContaining("identity provider"),
      "store unavailable: answering 503",
    ]);
  });

  it("does not log the answers that are the sender's or the shutdown's business", () => {
    const { map, lines } = mapper();
    map(httpError("unauthorized"));
    map(httpError("not-ready"));
    map(httpError("rate-limited"));
    expect(lines()).toEqual([]);
  });

  it("logs an unexpected error every time and answers 500", () => {
    const { map, lines } = mapper();
    expect(map(new TypeError("x is undefined")).status).toBe(500);
    expect(map(new TypeError("x is undefined")).status).toBe(500);
    expect(lines()).toHaveLength(2);
  });
});
