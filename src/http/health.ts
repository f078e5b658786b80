import { Router } from "express";
import type { Metrics } from "../metrics.js";
import { errorMessage, StoreUnavailableError } from "../errors.js";
import { httpError } from "../http-errors.js";
import type { Store } from "../store/store.js";
import { sendError, sendJson, type ErrorMapper } from "./error-response.js";

/** /healthz (the process lives), /readyz (config loaded and the store answers), /metrics. */
export function healthRoutes(deps: {
  store: Store;
  metrics: Metrics;
  isReady: () => boolean;
  toHttpError: ErrorMapper;
}): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }));
  router.get("/readyz", async (_req, res) => {
    if (!deps.isReady()) {
      sendError(res, httpError("not-ready", { message: "shutting down or not started" }));
      return;
    }
    try {
      await deps.store.ping();
      sendJson(res, 200, { status: "ready" });
    } catch (error) {
      // The cause (for Redis, its address) goes to the log, once per outage, not to a prober.
      const outage =
        error instanceof StoreUnavailableError
          ? error
          : new StoreUnavailableError(errorMessage(error), { cause: error });
      sendError(res, deps.toHttpError(outage));
    }
  });
  router.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", deps.metrics.registry.contentType);
    res.end(await deps.metrics.registry.metrics());
  });
  return router;
}
