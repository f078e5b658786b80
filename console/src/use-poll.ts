import { useEffect, useState } from "preact/hooks";
import { ApiError, UnauthorizedError, useApi } from "./api.js";

/** How often pages re-read the admin API, so new requests and runs show up without a reload. */
export const POLL_INTERVAL_MS = 2000;

export interface Polled<T> {
  readonly data: T | undefined;
  /** The last failure; the previous data stays shown beside it. */
  readonly error: ApiError | undefined;
}

interface PollState<T> extends Polled<T> {
  readonly path: string;
}

/** GETs `path` now and then every POLL_INTERVAL_MS until the component unmounts or the path changes. */
export function usePoll<T>(path: string): Polled<T> {
  const api = useApi();
  const [state, setState] = useState<PollState<T>>({ path, data: undefined, error: undefined });

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const load = async (): Promise<void> => {
      try {
        const data = await api.get<T>(path);
        if (!stopped) setState({ path, data, error: undefined });
      } catch (error) {
        // A refused token signs the user out (createApi's onUnauthorized): nothing left to show here.
        if (stopped || error instanceof UnauthorizedError) return;
        const failure = error instanceof ApiError ? error : new ApiError(0, "client", String(error));
        setState((previous) =>
          previous.path === path
            ? { ...previous, error: failure }
            : { path, data: undefined, error: failure },
        );
      }
      // load() settles only after catching its own failures, so nothing is left unhandled.
      if (!stopped) timer = window.setTimeout(() => void load(), POLL_INTERVAL_MS);
    };
    void load();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [api, path]);

  return state.path === path ? state : { data: undefined, error: undefined };
}
