import { CopyButton } from "../components/copy-button.js";
import { LoadState } from "../components/status.js";
import { describeAuth, describeDedup } from "../integration-text.js";
import { href } from "../route.js";
import { usePoll } from "../use-poll.js";
import type { Integration } from "../wire.js";

export function IntegrationsPage() {
  const polled = usePoll<{ integrations: Integration[] }>("v1/admin/integrations");
  const integrations = polled.data?.integrations;
  return (
    <>
      <h1 tabIndex={-1}>Integrations</h1>
      <p class="lead">
        Each integration is an endpoint other systems POST JSON to. Open one to see the requests it received
        and to pick deduplication fields.
      </p>
      <LoadState polled={polled} what="integrations" />
      {integrations?.length === 0 && (
        <p>
          No integrations yet: add a <code>kind: Integration</code> document under <code>integrations/</code>{" "}
          (<code>inlet new integration &lt;id&gt;</code> writes one).
        </p>
      )}
      <div class="cards">
        {integrations?.map((integration) => (
          <IntegrationCard key={integration.id} integration={integration} />
        ))}
      </div>
    </>
  );
}

function IntegrationCard(props: { integration: Integration }) {
  const { integration } = props;
  const headingId = `integration-${integration.id}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {integration.name ?? integration.id}
        {!integration.enabled && <span class="badge badge-failed">disabled</span>}
      </h2>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{integration.id}</code>
        </dd>
        <dt>Endpoint URL</dt>
        <dd class="url">
          <code class="endpoint-url">{integration.url}</code>
          <CopyButton text={integration.url} label="Copy URL" />
        </dd>
        <dt>Auth</dt>
        <dd>{describeAuth(integration.auth)}</dd>
        <dt>Deduplication</dt>
        <dd>{describeDedup(integration.dedup)}</dd>
        <dt>Requests</dt>
        <dd>
          {integration.counts.requests} received, {integration.counts.duplicates} duplicates{" "}
          <span class="muted">(since the server started)</span>
        </dd>
        <dt>Workflows</dt>
        <dd>{integration.workflows.length > 0 ? integration.workflows.join(", ") : "none"}</dd>
      </dl>
      <a class="button" href={href({ page: "samples", integration: integration.id })}>
        Samples and dedup fields<span class="visually-hidden"> of {integration.name ?? integration.id}</span>
      </a>
    </article>
  );
}
