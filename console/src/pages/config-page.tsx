import { Fragment } from "preact";
import { LoadState } from "../components/status.js";
import { formatTime } from "../format.js";
import { usePoll } from "../use-poll.js";
import type { ConfigStatus } from "../wire.js";

export function ConfigPage() {
  const polled = usePoll<ConfigStatus>("v1/admin/config");
  const config = polled.data;
  return (
    <>
      <h1 tabIndex={-1}>Config</h1>
      <LoadState polled={polled} what="the config status" />
      {config && (
        <>
          <section aria-labelledby="reload-heading">
            <h2 id="reload-heading">Last reload</h2>
            {config.lastReload.ok ? (
              <p>
                <span class="badge badge-succeeded">ok</span> at {formatTime(config.lastReload.at)}
              </p>
            ) : (
              <>
                <p role="alert">
                  <span class="badge badge-failed">failed</span> at {formatTime(config.lastReload.at)}: the
                  server keeps serving the config loaded at {formatTime(config.loadedAt)}. Fix these problems
                  and save again:
                </p>
                <ul class="problems">
                  {config.lastReload.errors.map((problem, index) => (
                    <li key={index}>
                      <code>
                        {problem.file}:{problem.line}:{problem.col}
                      </code>{" "}
                      <span class="muted">{problem.code}</span> {problem.message}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </section>
          <section aria-labelledby="loaded-heading">
            <h2 id="loaded-heading">Loaded config</h2>
            <dl class="facts">
              <dt>Loaded at</dt>
              <dd>{formatTime(config.loadedAt)}</dd>
              <dt>Folder</dt>
              <dd>
                <code>{config.dir}</code>
              </dd>
              {Object.entries(config.documents).map(([kind, count]) => (
                <Fragment key={kind}>
                  <dt>{kind} documents</dt>
                  <dd>{count}</dd>
                </Fragment>
              ))}
            </dl>
            <h3>Files</h3>
            <ul class="files">
              {config.files.map((file) => (
                <li key={file}>
                  <code>{file}</code>
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </>
  );
}
