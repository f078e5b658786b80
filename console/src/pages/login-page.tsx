import { useState } from "preact/hooks";
import { createApi, UnauthorizedError } from "../api.js";

export interface Notice {
  readonly kind: "info" | "error";
  readonly text: string;
}

/** Asks for INLET_ADMIN_TOKEN and checks it against the server before keeping it. */
export function LoginPage(props: { notice: Notice | null; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await createApi({ token, onUnauthorized: () => undefined }).get("v1/admin/config");
      props.onSignedIn(token);
    } catch (failure) {
      setError(
        failure instanceof UnauthorizedError
          ? "That token was refused. Use the value of INLET_ADMIN_TOKEN the server was started with."
          : `Could not sign in: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
    } finally {
      setBusy(false);
    }
  };

  const message: Notice | null = error === null ? props.notice : { kind: "error", text: error };
  return (
    <main class="login" id="main">
      <h1>Inlet console</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void signIn();
        }}
      >
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
          aria-describedby="admin-token-help"
        />
        <p id="admin-token-help" class="help">
          The value of <code>INLET_ADMIN_TOKEN</code> on the server. It stays in this browser tab only and is
          sent with each request as a bearer token.
        </p>
        {message?.kind === "error" && (
          <p class="error" role="alert">
            {message.text}
          </p>
        )}
        {message?.kind === "info" && (
          <p class="notice" role="status">
            {message.text}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
