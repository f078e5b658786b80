import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { Router, type Response } from "express";
import { httpError } from "../http-errors.js";

export const CONSOLE_PREFIX = "/console";

/** Hashed asset names change with their content, so browsers may keep them for good. */
const ASSET_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * The console holds the admin token, so it may load nothing but its own files and talk to
 * nothing but this server. Vite's build has no inline scripts or styles; styles set from
 * script (timeline bars) go through the CSSOM, which style-src does not restrict.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/**
 * The built console (dist/console). From the compiled module (dist/src/http/console.js) it is
 * two folders up; from the TypeScript sources (src/http/console.ts, under vitest) it is the
 * repository's dist/console.
 */
function consoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, "..", "..");
  return import.meta.url.endsWith(".ts") ? path.join(root, "dist", "console") : path.join(root, "console");
}

/** Serves the web console at /console; its pages call the admin API with the token the user types in. */
export function consoleRoutes(): Router {
  const dir = consoleDir();
  const router = Router();
  router.use(CONSOLE_PREFIX, (_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  });
  router.use(
    CONSOLE_PREFIX,
    express.static(dir, {
      index: "index.html",
      redirect: true,
      setHeaders: (res: Response, file: string) => {
        const asset = path.relative(dir, file).startsWith(`assets${path.sep}`);
        res.set(
          "Cache-Control",
          asset ? `public, max-age=${ASSET_MAX_AGE_MS / 1000}, immutable` : "no-cache",
        );
      },
    }),
  );
  router.use(CONSOLE_PREFIX, () => {
    throw httpError("not-found", {
      message: existsSync(path.join(dir, "index.html"))
        ? "No such file in the console"
        : `The console is not built (no ${dir}): run npm run build`,
    });
  });
  return router;
}
