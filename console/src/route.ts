import { useEffect, useState } from "preact/hooks";

/** The console's pages, addressed by the URL fragment so the static server needs no fallback. */
export type Route =
  | { readonly page: "integrations" }
  | { readonly page: "samples"; readonly integration: string }
  | { readonly page: "runs" }
  | { readonly page: "run"; readonly runId: string }
  | { readonly page: "config" };

export function parseRoute(hash: string): Route {
  const [section, id] = hash
    .replace(/^#\/?/, "")
    .split("/")
    .map((part) => decodeURIComponent(part));
  switch (section) {
    case "integrations":
      return id ? { page: "samples", integration: id } : { page: "integrations" };
    case "runs":
      return id ? { page: "run", runId: id } : { page: "runs" };
    case "config":
      return { page: "config" };
    default:
      return { page: "integrations" };
  }
}

export function href(route: Route): string {
  switch (route.page) {
    case "integrations":
      return "#/integrations";
    case "samples":
      return `#/integrations/${encodeURIComponent(route.integration)}`;
    case "runs":
      return "#/runs";
    case "run":
      return `#/runs/${encodeURIComponent(route.runId)}`;
    case "config":
      return "#/config";
    default: {
      const unknown: never = route;
      throw new Error(`unknown route ${JSON.stringify(unknown)}`);
    }
  }
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
