import { useState } from "preact/hooks";
import { Badge, LoadState } from "../components/status.js";
import { elapsedMs, formatDuration, formatTime } from "../format.js";
import { href } from "../route.js";
import { usePoll } from "../use-poll.js";
import { RUN_STATUSES, type RunSummary } from "../wire.js";

const ALL = "";

export function RunsPage() {
  const [status, setStatus] = useState(ALL);
  const [workflow, setWorkflow] = useState("");
  const query = new URLSearchParams();
  if (status !== ALL) query.set("status", status);
  if (workflow.trim() !== "") query.set("workflow", workflow.trim());
  const polled = usePoll<{ runs: RunSummary[] }>(`v1/admin/runs?${query.toString()}`);
  const runs = polled.data?.runs;

  return (
    <>
      <h1 tabIndex={-1}>Runs</h1>
      <p class="lead">Workflow runs started by received requests, newest first.</p>
      <form class="toolbar" onSubmit={(event) => event.preventDefault()}>
        <label>
          Status{" "}
          <select value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
            <option value={ALL}>all</option>
            {RUN_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow id{" "}
          <input
            type="search"
            value={workflow}
            onChange={(event) => setWorkflow(event.currentTarget.value)}
          />
        </label>
      </form>
      <LoadState polled={polled} what="runs" />
      {runs?.length === 0 && <p>No runs match.</p>}
      {runs && runs.length > 0 && (
        <table class="runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.runId}>
                <td>
                  <a href={href({ page: "run", runId: run.runId })}>
                    <code>{run.runId}</code>
                  </a>
                </td>
                <td>{run.workflow}</td>
                <td>
                  <Badge status={run.status} />
                </td>
                <td>{formatTime(run.startedAt)}</td>
                <td>{formatDuration(elapsedMs(run.startedAt, run.finishedAt))}</td>
                <td class="error-text">{run.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
