import { DEDUP_MAX_PARAMS } from "../../../src/defaults.js";
import { CopyButton } from "../components/copy-button.js";
import { dedupYaml } from "../dedup-yaml.js";

/** The picked paths, in order, and the `dedup:` block they make. */
export function DedupPicker(props: {
  integrationId: string;
  ttl: string | undefined;
  picked: readonly string[];
  refusal: string | null;
  onRemove: (path: string) => void;
}) {
  const { picked } = props;
  const yaml = dedupYaml(picked, { ttl: props.ttl });
  return (
    <section class="picker" aria-labelledby="picker-heading">
      <h2 id="picker-heading">Deduplication fields</h2>
      <p class="help">
        Tick up to {DEDUP_MAX_PARAMS} paths whose values together identify one request (an order number, a
        request id). A later request with the same values is answered 204 and starts nothing.
      </p>
      <p id="picked-count" role="status">
        {picked.length} of {DEDUP_MAX_PARAMS} picked
      </p>
      {props.refusal && (
        <p class="error" role="alert">
          {props.refusal}
        </p>
      )}
      {picked.length > 0 && (
        <>
          <ol class="picked-list">
            {picked.map((path) => (
              <li key={path}>
                <code>{path}</code>{" "}
                <button
                  type="button"
                  class="link"
                  aria-label={`Remove ${path}`}
                  onClick={() => props.onRemove(path)}
                >
                  remove
                </button>
              </li>
            ))}
          </ol>
          <h3 id="yaml-heading">YAML to paste</h3>
          <p class="help">
            Put this block in the file that declares <code>id: {props.integrationId}</code>, in place of any{" "}
            <code>dedup:</code> it has, then run <code>inlet validate</code>.
          </p>
          <pre class="yaml" aria-labelledby="yaml-heading">
            <code id="dedup-yaml">{yaml}</code>
          </pre>
          <CopyButton text={yaml} label="Copy YAML" />
        </>
      )}
    </section>
  );
}
