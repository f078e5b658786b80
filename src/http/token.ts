import express, { Router } from "express";
import * as defaults from "../defaults.js";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import { exchangeApiKey } from "../auth/jwt.js";
import { httpError } from "../http-errors.js";
import { HttpError } from "../errors.js";
import { clientKey } from "./client-address.js";
import { sendJson } from "./error-response.js";
import { refuseIfOver, type RateLimits } from "./rate-limit.js";

/** POST /v1/auth/token: an API key for a JWT (SPEC 3), with failed attempts limited per client. */
export function tokenRoutes(deps: {
  holder: SnapshotHolder;
  jwtKey: Uint8Array | null;
  rateLimits: RateLimits;
}): Router {
  const failures = deps.rateLimits.failures("token", {
    points: defaults.AUTH_FAILURES_PER_WINDOW,
    windowMs: defaults.AUTH_FAILURE_WINDOW_MS,
  });
  const router = Router();
  router.post("/v1/auth/token", express.json({ limit: "4kb" }), async (req, res) => {
    const client = clientKey(req.ip);
    const secret: unknown = (req.body as Record<string, unknown> | undefined)?.["apiKey"];
    if (typeof secret !== "string" || secret === "") {
      throw httpError("invalid-request", { message: 'Send JSON {"apiKey": "<secret>"}' });
    }
    if (!deps.jwtKey) throw httpError("invalid-api-key", { message: "Token issuing is not configured" });
    const apiKeys = deps.holder.current.apiKeys.values();
    const token = await exchangeApiKey(secret, { apiKeys, key: deps.jwtKey }).catch(
      async (error: unknown) => {
        if (error instanceof HttpError && error.status === 401) await refuseIfOver(failures.fail(client));
        throw error;
      },
    );
    await refuseIfOver(failures.blockedFor(client));
    sendJson(res, 200, token, { "Cache-Control": "no-store" });
  });
  return router;
}
