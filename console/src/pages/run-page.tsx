import { useState } from "preact/hooks";
import { ApiError, useApi } from "../api.js";
import { Badge, ErrorLine, LoadState } from "../components/status.js";
import { elapsedMs, formatDuration, formatTime } from "../format.js";
import { href, navigate } from "../route.js";
import { usePoll } from "../use-poll.js";
import type { NodeRecord, Run } from "../wire.js";
import { NodeOutput } from "./node-output.js";

export function RunPage(props: { runId: string }) {
  const polled = usePoll<Run>(`v1/admin/runs/${encodeURIComponent(props.runId)}`);
  const run = polled.data;
  return (
    <>
      <p class="breadcrumb">
        <a href={href({ page: "runs" })}>Runs</a> /
      </p>
      <h1 tabIndex={-1}>
        Run <code>{props.runId}</code>
      </h1>
      <LoadState polled={polled} what="the run" />
      {run && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Badge status={run.status} />
            </dd>
            <dt>Workflow</dt>
            <dd>{run.workflow}</dd>
            <dt>Event</dt>
            <dd>
              <code>{run.eventId}</code>
            </dd>
            <dt>Started</dt>
            <dd>{formatTime(run.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{formatTime(run.finishedAt)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(elapsedMs(run.startedAt, run.finishedAt))}</dd>
          </dl>
          {run.error && (
            <p class="error">
              <strong>Error:</strong> {run.error}
            </p>
          )}
          {run.retriedBy !== null ? (
            <p>
              Retried by run{" "}
              <a href={href({ page: "run", runId: run.retriedBy })}>
                <code>{run.retriedBy}</code>
              </a>
            </p>
          ) : (
            run.status === "failed" && <RetryButton runId={run.runId} />
          )}
          <Timeline run={run} />
        </>
      )}
    </>
  );
}

function RetryButton(props: { runId: string }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const retry = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const answer = await api.post<{ runId: string }>(
        `v1/admin/runs/${encodeURIComponent(props.runId)}/retry`,
      );
      navigate({ page: "run", runId: answer.runId });
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : new ApiError(0, "client", String(failure)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <p>
      <button type="button" disabled={busy} onClick={() => void retry()}>
        {busy ? "Retrying…" : "Retry this run"}
      </button>{" "}
      <span class="muted">starts a new run of the same workflow on the same event</span>
      {error && <ErrorLine error={error} />}
    </p>
  );
}

/** Each node as a bar placed by its start and length within the run. */
function Timeline(props: { run: Run }) {
  const { nodes } = props.run;
  if (nodes.length === 0) return <p class="muted">No node has run yet.</p>;
  const start = Math.min(...nodes.map((node) => Date.parse(node.startedAt)));
  const end = Math.max(...nodes.map((node) => Date.parse(node.startedAt) + (node.durationMs ?? 0)));
  const span = Math.max(end - start, 1);
  return (
    <section aria-labelledby="nodes-heading">
      <h2 id="nodes-heading">Nodes</h2>
      <ol class="timeline">
        {nodes.map((node) => (
          <TimelineNode
            key={node.id}
            node={node}
            offset={(Date.parse(node.startedAt) - start) / span}
            span={span}
          />
        ))}
      </ol>
    </section>
  );
}

function TimelineNode(props: { node: NodeRecord; offset: number; span: number }) {
  const { node } = props;
  const width = node.durationMs === null ? 0 : node.durationMs / props.span;
  return (
    <li class="node">
      <div class="node-head">
        <strong>{node.id}</strong> <span class="muted">{node.type}</span> <Badge status={node.status} />{" "}
        <span>{formatDuration(node.durationMs)}</span>
        {node.attempts > 1 && <span class="muted"> · {node.attempts} attempts</span>}
      </div>
      <div class="bar-track" aria-hidden="true">
        <div
          class={`bar bar-${node.status}`}
          style={{
            marginLeft: `${(props.offset * 100).toFixed(2)}%`,
            width: `${Math.max(width * 100, 0.5).toFixed(2)}%`,
          }}
        />
      </div>
      {node.error && <p class="error">{node.error}</p>}
      {node.output !== null && node.output !== undefined && <NodeOutput output={node.output} />}
    </li>
  );
}
