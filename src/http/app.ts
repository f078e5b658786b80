import { createServer, type Server } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import type { RunDispatcher } from "../engine/dispatcher.js";
import type { IngressLoad } from "../engine/run-throttle.js";
import { httpError } from "../http-errors.js";
import type { SampleBuffer } from "../ingest/sample-buffer.js";
import type { Metrics } from "../metrics.js";
import type { Store } from "../store/store.js";
import { adminRoutes } from "./admin.js";
import { consoleRoutes } from "./console.js";
import { createErrorMapper, sendError, type ErrorMapper } from "./error-response.js";
import { healthRoutes } from "./health.js";
import { createIncomingHandler, INCOMING_PREFIX } from "./incoming.js";
import type { RateLimits } from "./rate-limit.js";
import { tokenRoutes } from "./token.js";

export interface AppDeps {
  readonly holder: SnapshotHolder;
  readonly store: Store;
  readonly dispatcher: RunDispatcher;
  readonly rateLimits: RateLimits;
  readonly samples: SampleBuffer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly jwtKey: Uint8Array | null;
  readonly adminToken: string | undefined;
  readonly publicUrl: () => string;
  readonly isReady: () => boolean;
  readonly now: () => number;
  /** Told of every incoming request, so runs give way to the ingress under load. */
  readonly load: IngressLoad;
}

/** The express app for every route but the hot one: health, token exchange, admin. */
export function createExpressApp(deps: AppDeps & { toHttpError: ErrorMapper }): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(healthRoutes(deps));
  app.use(tokenRoutes(deps));
  if (deps.adminToken) app.use(adminRoutes(Object.assign({}, deps, { adminToken: deps.adminToken })));
  if (deps.adminToken) app.use(consoleRoutes());
  app.use((_req: Request, _res: Response) => {
    throw httpError("not-found");
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, deps.toHttpError(bodyParserError(error)));
  });
  return app;
}

/**
 * The HTTP server: /v1/incoming/* goes straight to the lean node:http handler (express routing
 * alone would cost three quarters of the throughput); everything else goes to express.
 */
export function createHttpServer(deps: AppDeps): Server {
  const withErrors = Object.assign({}, deps, { toHttpError: createErrorMapper(deps.logger) });
  const incoming = createIncomingHandler(withErrors);
  const app = createExpressApp(withErrors);
  return createServer((req, res) => {
    if (req.url?.startsWith(INCOMING_PREFIX)) incoming(req, res);
    else app(req, res);
  });
}

/**
 * express and body-parser errors carry a status, an `expose` flag and a type; map them onto our
 * catalogue, so a malformed request is a 4xx the sender can act on, never a logged 500.
 */
function bodyParserError(error: unknown): unknown {
  if (typeof error !== "object" || error === null) return error;
  const type = "type" in error ? error.type : undefined;
  switch (type) {
    case "entity.parse.failed":
      return httpError("invalid-json");
    case "entity.too.large":
      return httpError("body-too-large", { message: "The body is too large" });
    case "encoding.unsupported":
      return httpError("unsupported-encoding");
    case "charset.unsupported":
      return httpError("unsupported-media-type", { message: "Send the body as UTF-8 JSON" });
  }
  const status = "status" in error ? Number(error.status) : NaN;
  if (error instanceof URIError || (status >= 400 && status < 500 && "expose" in error && error.expose)) {
    return httpError("invalid-request", { message: error instanceof Error ? error.message : undefined });
  }
  return error;
}
