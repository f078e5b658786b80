import { useEffect, useState } from "preact/hooks";
import { copyText } from "../copy-text.js";

/** How long "Copied" stays shown. */
const FEEDBACK_MS = 2000;

type CopyState =
  | { readonly kind: "idle" }
  | { readonly kind: "copied" }
  | { readonly kind: "failed"; readonly message: string };

/** A button copying `text`; the outcome is announced to screen readers through a live region. */
export function CopyButton(props: { text: string; label: string }) {
  const [state, setState] = useState<CopyState>({ kind: "idle" });

  useEffect(() => {
    if (state.kind !== "copied") return;
    const timer = window.setTimeout(() => setState({ kind: "idle" }), FEEDBACK_MS);
    return () => window.clearTimeout(timer);
  }, [state]);

  const copy = async (): Promise<void> => {
    try {
      await copyText(props.text);
      setState({ kind: "copied" });
    } catch (error) {
      setState({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
    }
  };

  return (
    <span class="copy">
      <button type="button" class="secondary" onClick={() => void copy()}>
        {props.label}
      </button>
      <span class="copy-status" role="status">
        {state.kind === "copied" ? "Copied" : state.kind === "failed" ? state.message : ""}
      </span>
    </span>
  );
}
