import express, { Router } from "express";
import * as defaults from "../defaults.js";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import { exchangeApiKey } from "../auth/jwt.js";
import { httpError } from "../http-errors.js";
import { HttpError } from "../errors.js";
import { clientKey } from "./client-address.js";
import { sendJson } from "./error-response.js";
import type { RateLimits } from "./rate-limit.js";

/** POST /v1/auth/token: an API key for a JWT (SPEC 3), with failed attempts limited per client. */
export function tokenRoutes(deps: {
  holder: SnapshotHolder;
  jwtKey: Uint8Array | null;
  rateLimits: RateLimits;
}): Router {
  const failures = deps.rateLimits.failures("token", {
    points: defaults.TOKEN_FAILURES_PER_WINDOW,
    windowMs: defaults.TOKEN_FAILURE_WINDOW_MS,
  });
  const router = Router();
  router.post("/v1/auth/token", express.json({ limit: "4kb" }), async (req, res) => {
    const client = clientKey(req.ip);
    const waitMs = await failures.attempt(client);
    if (waitMs !== null) throw tooManyFailures(waitMs);
    let wrongKey = false;
    try {
      const secret: unknown = (req.body as Record<string, unknown> | undefined)?.["apiKey"];
      if (typeof secret !== "string" || secret === "") {
        throw httpError("invalid-request", { message: 'Send JSON {"apiKey": "<secret>"}' });
      }
      if (!deps.jwtKey) throw httpError("invalid-api-key", { message: "Token issuing is not configured" });
      const token = await exchangeApiKey(secret, {
        apiKeys: deps.holder.current.apiKeys.values(),
        key: deps.jwtKey,
      }).catch((error: unknown) => {
        wrongKey = error instanceof HttpError && error.status === 401;
        throw error;
      });
      sendJson(res, 200, token, { "Cache-Control": "no-store" });
    } finally {
      // Only a wrong key uses up the budget: every other outcome gives its attempt back.
      if (!wrongKey) await failures.succeeded(client);
    }
  });
  return router;
}

function tooManyFailures(waitMs: number): HttpError {
  return httpError("too-many-failures", {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))) },
  });
}
