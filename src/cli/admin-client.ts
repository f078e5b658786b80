import * as defaults from "../defaults.js";
import { InletError } from "../errors.js";

export interface AdminClientOptions {
  readonly url?: string;
}

/** Calls a running server's admin API (INLET_URL or --url, with INLET_ADMIN_TOKEN). */
export async function adminRequest(
  options: AdminClientOptions,
  method: "GET" | "POST",
  path: string,
): Promise<unknown> {
  const base = (
    options.url ??
    process.env["INLET_URL"] ??
    `http://localhost:${process.env["PORT"] || defaults.PORT}`
  ).replace(/\/+$/, "");
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
  const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!response.ok) {
    throw new InletError(
      "admin-error",
      `${method} ${path} → ${response.status}: ${body?.error?.message ?? response.statusText}`,
    );
  }
  if (typeof body !== "object" || body === null) {
    throw new InletError("admin-error", `${base} did not answer JSON: is --url an inlet server?`);
  }
  return body;
}
