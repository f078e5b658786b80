import { Router } from "express";
import type { Metrics } from "../metrics.js";
import type { Store } from "../store/store.js";
import { sendError, sendJson } from "./error-response.js";
import { httpError } from "../http-errors.js";

/** /healthz (the process lives), /readyz (config loaded and the store answers), /metrics. */
export function healthRoutes(deps: { store: Store; metrics: Metrics; isReady: () => boolean }): Router {
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
      sendError(
        res,
        httpError("store-unavailable", {
          message: `the store does not answer: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
    }
  });
  router.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", deps.metrics.registry.contentType);
    res.end(await deps.metrics.registry.metrics());
  });
  return router;
}
