import * as defaults from "../defaults.js";
import { InletError } from "../errors.js";
import { HTTP_ERRORS } from "../http-errors.js";

export interface AdminClientOptions {
  readonly url?: string;
}

/** Calls a running server's admin API (INLET_URL or --url, with INLET_ADMIN_TOKEN). */
export async function adminRequest(
  options: AdminClientOptions,
  method: "GET" | "POST",
  path: string,
): Promise<unknown> {
  const { base, where } = serverUrl(options);
  const token = process.env["INLET_ADMIN_TOKEN"];
  if (!token) throw new InletError("no-admin-token", "set INLET_ADMIN_TOKEN to the server's admin token");
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}` },
      // A server that takes the connection and never answers must not stall a CI step.
      signal: AbortSignal.timeout(defaults.ADMIN_CLIENT_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    throw new InletError(
      "server-unreachable",
      timedOut
        ? `${base} did not answer within ${defaults.ADMIN_CLIENT_TIMEOUT_MS / 1000} s`
        : `cannot reach ${base}: is inlet serve running? (--url, INLET_URL)`,
      { cause: error },
    );
  }
  const body = (await response.json().catch(() => null)) as {
    error?: { code?: string; message?: string };
  } | null;
  if (!response.ok) {
    const answer = `${method} ${path} → ${response.status}: ${body?.error?.message ?? response.statusText}`;
    throw new InletError("admin-error", `${answer}${notFoundHint(response.status, body?.error, where)}`);
  }
  if (typeof body !== "object" || body === null) {
    throw new InletError("admin-error", `${base} did not answer JSON: is --url an inlet server?`);
  }
  return body;
}

/** The server's URL, and how it was given (`where`), so that a hint can name what to change. */
function serverUrl(options: AdminClientOptions): { base: string; where: string } {
  const env = process.env["INLET_URL"];
  if (options.url !== undefined) {
    const base = withoutTrailingSlash(options.url);
    return { base, where: `--url ${base}` };
  }
  if (env !== undefined && env !== "") {
    const base = withoutTrailingSlash(env);
    return { base, where: `INLET_URL=${base}` };
  }
  const base = `http://localhost:${process.env["PORT"] || defaults.PORT}`;
  return { base, where: `the default URL ${base} (no --url or INLET_URL given)` };
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * A 404 that is not the admin API's own (such as "No run with this id") means no admin API
 * answered: an inlet server started without INLET_ADMIN_TOKEN serves none, and answers every
 * /v1/admin path with the catch-all not-found; anything else is not an inlet server.
 */
function notFoundHint(
  status: number,
  error: { code?: string; message?: string } | undefined,
  where: string,
): string {
  if (status !== HTTP_ERRORS["not-found"].status) return "";
  if (error?.code === "not-found" && error.message === HTTP_ERRORS["not-found"].message) {
    return (
      ". The server serves no admin API: inlet serves one only when started with INLET_ADMIN_TOKEN " +
      `set, and the CLI must send the same token. Or ${where} points at something else.`
    );
  }
  // Not inlet's error shape at all: some other server answered.
  return error?.code === undefined ? `. Is ${where} an inlet server? It may point at something else.` : "";
}
