import { useState } from "preact/hooks";
import { DEDUP_MAX_PARAMS } from "../../../src/defaults.js";
import { CopyButton } from "../components/copy-button.js";
import { LoadState } from "../components/status.js";
import { formatTime, formatValue } from "../format.js";
import { curlExample, describeDedup } from "../integration-text.js";
import { href } from "../route.js";
import { POLL_INTERVAL_MS, usePoll } from "../use-poll.js";
import type { Integration, Sample } from "../wire.js";
import { DedupPicker } from "./dedup-picker.js";

const LATEST = "latest";

export function SamplesPage(props: { integrationId: string }) {
  const { integrationId } = props;
  const integrations = usePoll<{ integrations: Integration[] }>("v1/admin/integrations");
  const polled = usePoll<{ samples: Sample[] }>(
    `v1/admin/integrations/${encodeURIComponent(integrationId)}/samples`,
  );
  const [chosen, setChosen] = useState<string>(LATEST);
  const [picked, setPicked] = useState<readonly string[]>([]);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [filter, setFilter] = useState("");

  const integration = integrations.data?.integrations.find((candidate) => candidate.id === integrationId);
  const samples = polled.data?.samples ?? [];
  // A chosen sample that has since rotated out falls back to following the newest.
  const kept = samples.find((candidate) => candidate.eventId === chosen);
  const sample = kept ?? samples[0];

  const toggle = (path: string, input: HTMLInputElement): void => {
    if (!input.checked) {
      setPicked(picked.filter((other) => other !== path));
      setRefusal(null);
      return;
    }
    if (picked.length >= DEDUP_MAX_PARAMS) {
      // The checkbox is controlled, but its state did not change, so the DOM must be reset by hand.
      input.checked = false;
      setRefusal(
        `Not added: dedup.params takes at most ${DEDUP_MAX_PARAMS} paths. Unpick one of the ${DEDUP_MAX_PARAMS} first.`,
      );
      return;
    }
    setPicked([...picked, path]);
    setRefusal(null);
  };

  return (
    <>
      <p class="breadcrumb">
        <a href={href({ page: "integrations" })}>Integrations</a> /
      </p>
      <h1 tabIndex={-1}>Samples of {integration?.name ?? integrationId}</h1>
      <LoadState polled={polled} what="samples" />
      {integration && <IntegrationSummary integration={integration} />}
      {polled.data && samples.length === 0 && integration && <NoSamples integration={integration} />}
      {sample && (
        <div class="samples-layout">
          <section aria-labelledby="flattened-heading">
            <h2 id="flattened-heading">Flattened request</h2>
            <div class="toolbar">
              <label>
                Request{" "}
                <select
                  value={kept ? chosen : LATEST}
                  onChange={(event) => setChosen(event.currentTarget.value)}
                >
                  <option value={LATEST}>Newest (follows new requests)</option>
                  {samples.map((candidate) => (
                    <option key={candidate.eventId} value={candidate.eventId}>
                      {formatTime(candidate.receivedAt)} · {candidate.request.method} · {candidate.eventId}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Filter paths{" "}
                <input
                  type="search"
                  value={filter}
                  onInput={(event) => setFilter(event.currentTarget.value)}
                />
              </label>
            </div>
            <p class="muted" role="status">
              Received {formatTime(sample.receivedAt)}, event <code>{sample.eventId}</code>. {samples.length}{" "}
              kept; refreshed every {POLL_INTERVAL_MS / 1000} s.
            </p>
            <FlattenedTable sample={sample} filter={filter} picked={picked} onToggle={toggle} />
          </section>
          <DedupPicker
            integrationId={integrationId}
            ttl={integration?.dedup?.ttl}
            picked={picked}
            refusal={refusal}
            onRemove={(path) => {
              setPicked(picked.filter((other) => other !== path));
              setRefusal(null);
            }}
          />
        </div>
      )}
    </>
  );
}

function IntegrationSummary(props: { integration: Integration }) {
  const { integration } = props;
  return (
    <dl class="facts summary">
      <dt>Endpoint URL</dt>
      <dd class="url">
        <code class="endpoint-url">{integration.url}</code>
        <CopyButton text={integration.url} label="Copy URL" />
      </dd>
      <dt>Deduplication now</dt>
      <dd>{describeDedup(integration.dedup)}</dd>
    </dl>
  );
}

function NoSamples(props: { integration: Integration }) {
  const { integration } = props;
  if (integration.samples === 0) {
    return (
      <p>
        This integration keeps no samples (<code>samples: 0</code> in its file).
      </p>
    );
  }
  const curl = curlExample(integration);
  return (
    <section class="empty" aria-labelledby="empty-heading">
      <h2 id="empty-heading">No requests received yet</h2>
      <p>Send one, for example with curl; it shows up here within {POLL_INTERVAL_MS / 1000} seconds.</p>
      <pre>
        <code>{curl}</code>
      </pre>
      <CopyButton text={curl} label="Copy command" />
    </section>
  );
}

function FlattenedTable(props: {
  sample: Sample;
  filter: string;
  picked: readonly string[];
  onToggle: (path: string, input: HTMLInputElement) => void;
}) {
  const needle = props.filter.trim().toLowerCase();
  const rows = Object.entries(props.sample.flattened).filter(([path]) => path.toLowerCase().includes(needle));
  return (
    <table class="flattened">
      <caption class="visually-hidden">
        Path and value of each field of the request; tick a path to deduplicate on it
      </caption>
      <thead>
        <tr>
          <th scope="col">Path</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([path, value], index) => {
          const id = `path-${index}`;
          return (
            <tr key={path} class={props.picked.includes(path) ? "picked" : undefined}>
              <td>
                <input
                  type="checkbox"
                  id={id}
                  checked={props.picked.includes(path)}
                  onChange={(event) => props.onToggle(path, event.currentTarget)}
                />
                <label for={id}>
                  <code>{path}</code>
                </label>
              </td>
              <td>
                <code class="value">{formatValue(value)}</code>
              </td>
            </tr>
          );
        })}
        {rows.length === 0 && (
          <tr>
            <td colSpan={2} class="muted">
              No path contains “{props.filter}”.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
