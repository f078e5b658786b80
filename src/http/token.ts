import express, { Router } from "express";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import * as defaults from "../defaults.js";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import { exchangeApiKey } from "../auth/jwt.js";
import { httpError } from "../http-errors.js";
import { HttpError } from "../errors.js";
import { sendJson } from "./error-response.js";

/** POST /v1/auth/token: an API key for a JWT (SPEC 3), with failed attempts limited per client. */
export function tokenRoutes(deps: { holder: SnapshotHolder; jwtKey: Uint8Array | null }): Router {
  const failures = new RateLimiterMemory({
    points: defaults.TOKEN_FAILURES_PER_WINDOW,
    duration: defaults.TOKEN_FAILURE_WINDOW_MS / 1000,
  });
  const router = Router();
  router.post("/v1/auth/token", express.json({ limit: "4kb" }), async (req, res) => {
    const client = req.ip ?? "unknown";
    const blocked = await failures.get(client);
    if (blocked && blocked.consumedPoints >= defaults.TOKEN_FAILURES_PER_WINDOW) {
      throw tooManyFailures(blocked);
    }
    const secret: unknown = (req.body as Record<string, unknown> | undefined)?.["apiKey"];
    if (typeof secret !== "string" || secret === "") {
      throw httpError("invalid-request", { message: 'Send JSON {"apiKey": "<secret>"}' });
    }
    if (!deps.jwtKey) throw httpError("invalid-api-key", { message: "Token issuing is not configured" });
    try {
      const token = await exchangeApiKey(secret, {
        apiKeys: deps.holder.current.apiKeys.values(),
        key: deps.jwtKey,
      });
      sendJson(res, 200, token, { "Cache-Control": "no-store" });
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) {
        await failures.penalty(client, 1);
      }
      throw error;
    }
  });
  return router;
}

function tooManyFailures(state: RateLimiterRes): HttpError {
  return httpError("too-many-failures", {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(state.msBeforeNext / 1000))) },
  });
}
