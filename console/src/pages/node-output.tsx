import { formatValue } from "../format.js";

interface HttpExchange {
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: unknown;
  };
  readonly response?: { readonly status: number; readonly body?: unknown };
}

function isHttpExchange(output: unknown): output is HttpExchange {
  const request = (output as { request?: unknown } | null)?.request;
  return typeof request === "object" && request !== null && "method" in request && "url" in request;
}

/** A node's recorded output; an outgoing request (secrets already redacted by the server) is shown as HTTP. */
export function NodeOutput(props: { output: unknown }) {
  const { output } = props;
  if (!isHttpExchange(output)) {
    return (
      <details>
        <summary>Output</summary>
        <pre>
          <code>{JSON.stringify(output, null, 2)}</code>
        </pre>
      </details>
    );
  }
  const { request, response } = output;
  return (
    <details>
      <summary>
        Outgoing request: {request.method} {request.url}
        {response ? ` → ${response.status}` : ""}
      </summary>
      <pre class="http">
        <code>
          {[
            `${request.method} ${request.url}`,
            ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
            "",
            request.body === undefined ? "" : showBody(request.body),
          ].join("\n")}
        </code>
      </pre>
      {response && (
        <>
          <h4>Response {response.status}</h4>
          <pre>
            <code>{response.body === undefined ? "" : showBody(response.body)}</code>
          </pre>
        </>
      )}
    </details>
  );
}

function showBody(body: unknown): string {
  return typeof body === "string" ? body : (JSON.stringify(body, null, 2) ?? formatValue(body));
}
