import type { ApiError } from "../api.js";
import type { Polled } from "../use-poll.js";

/** Loading and error lines for a polled resource; a failed refresh keeps the last data shown. */
export function LoadState<T>(props: { polled: Polled<T>; what: string }) {
  const { data, error } = props.polled;
  if (error) return <ErrorLine error={error} stale={data !== undefined} />;
  if (data === undefined) return <p class="muted">Loading {props.what}…</p>;
  return null;
}

export function ErrorLine(props: { error: ApiError; stale?: boolean }) {
  return (
    <p class="error" role="alert">
      {props.error.message}
      {props.error.status > 0 ? ` (HTTP ${props.error.status})` : ""}
      {props.stale ? " Showing the last answer." : ""}
    </p>
  );
}

/** A status word with a colour; the word itself carries the meaning. */
export function Badge(props: { status: string }) {
  return <span class={`badge badge-${props.status}`}>{props.status}</span>;
}
