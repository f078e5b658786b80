import { createContext } from "preact";
import { useContext } from "preact/hooks";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApiError";
  }
}

/** The server refused the admin token (401). */
export class UnauthorizedError extends ApiError {
  override name = "UnauthorizedError";
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string): Promise<T>;
}

/**
 * A client of /v1/admin. Paths are relative to the console's folder (`v1/admin/…` resolves
 * from /console/ to /v1/admin/…), so the console keeps working under a proxy prefix.
 */
export function createApi(options: { token: string; onUnauthorized: () => void }): Api {
  async function request<T>(method: "GET" | "POST", path: string): Promise<T> {
    const url = new URL(`../${path}`, document.baseURI);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        cache: "no-store",
        headers: { Authorization: `Bearer ${options.token}`, Accept: "application/json" },
      });
    } catch (error) {
      throw new ApiError(0, "network", "The server cannot be reached.", { cause: error });
    }
    const body = await readJson(response);
    if (response.status === 401) {
      options.onUnauthorized();
      throw new UnauthorizedError(401, "admin-unauthorized", "The admin token was refused.");
    }
    if (!response.ok) {
      const error = errorOf(body);
      throw new ApiError(response.status, error.code, error.message);
    }
    return body as T;
  }
  return { get: (path) => request("GET", path), post: (path) => request("POST", path) };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError(
      response.status,
      "invalid-answer",
      `The server answered ${response.status} without JSON.`,
      {
        cause: error,
      },
    );
  }
}

function errorOf(body: unknown): { code: string; message: string } {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return {
    code: typeof error?.code === "string" ? error.code : "http",
    message: typeof error?.message === "string" ? error.message : "The request failed.",
  };
}

export const ApiContext = createContext<Api | null>(null);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi needs an ApiContext.Provider");
  return api;
}
