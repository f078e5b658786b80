import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiContext, createApi } from "./api.js";
import { ConfigPage } from "./pages/config-page.js";
import { IntegrationsPage } from "./pages/integrations-page.js";
import { LoginPage, type Notice } from "./pages/login-page.js";
import { RunPage } from "./pages/run-page.js";
import { RunsPage } from "./pages/runs-page.js";
import { SamplesPage } from "./pages/samples-page.js";
import { href, useRoute, type Route } from "./route.js";
import { clearToken, readToken, saveToken } from "./session.js";

export function App() {
  const [token, setToken] = useState(readToken);
  const [notice, setNotice] = useState<Notice | null>(null);

  const api = useMemo(
    () =>
      token === null
        ? null
        : createApi({
            token,
            onUnauthorized: () => {
              clearToken();
              setToken(null);
              setNotice({ kind: "error", text: "The server refused the admin token (401). Sign in again." });
            },
          }),
    [token],
  );

  if (!api) {
    return (
      <LoginPage
        notice={notice}
        onSignedIn={(signedIn) => {
          saveToken(signedIn);
          setNotice(null);
          setToken(signedIn);
        }}
      />
    );
  }
  return (
    <ApiContext.Provider value={api}>
      <Shell
        onSignOut={() => {
          clearToken();
          setNotice({ kind: "info", text: "Signed out." });
          setToken(null);
        }}
      />
    </ApiContext.Provider>
  );
}

const NAV: readonly { readonly label: string; readonly route: Route; readonly section: Route["page"][] }[] = [
  { label: "Integrations", route: { page: "integrations" }, section: ["integrations", "samples"] },
  { label: "Runs", route: { page: "runs" }, section: ["runs", "run"] },
  { label: "Config", route: { page: "config" }, section: ["config"] },
];

function Shell(props: { onSignOut: () => void }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Moves focus to the new page's heading, so keyboard and screen-reader users land on it.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [href(route)]);

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Inlet</span>
        <nav aria-label="Console">
          <ul>
            {NAV.map((item) => (
              <li key={item.label}>
                <a
                  href={href(item.route)}
                  aria-current={item.section.includes(route.page) ? "page" : undefined}
                >
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="secondary" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case "integrations":
      return <IntegrationsPage />;
    case "samples":
      return <SamplesPage integrationId={route.integration} />;
    case "runs":
      return <RunsPage />;
    case "run":
      return <RunPage runId={route.runId} />;
    case "config":
      return <ConfigPage />;
    default: {
      const unknown: never = route;
      throw new Error(`unknown route ${JSON.stringify(unknown)}`);
    }
  }
}
