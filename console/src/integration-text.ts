import { SIGNATURE_HEADER, SIGNATURE_PREFIX } from "../../src/defaults.js";
import { formatDuration } from "./format.js";
import type { AuthSettings, DedupSettings, Integration } from "./wire.js";

export function describeAuth(auth: AuthSettings): string {
  switch (auth.type) {
    case "none":
      return "none (anyone with the URL can send)";
    case "jwt":
      return auth.apiKey
        ? `jwt, tokens of ApiKey ${auth.apiKey}`
        : `jwt, tokens from ${auth.jwks ?? "a JWK set"}`;
    case "signature":
      return `signature (HMAC of the body in ${auth.header ?? SIGNATURE_HEADER})`;
    default: {
      const unknown: never = auth;
      return `unknown (${JSON.stringify(unknown)})`;
    }
  }
}

export function describeDedup(dedup: DedupSettings | null): string {
  if (dedup === null) return "off";
  const ttl = dedup.ttl ?? formatDuration(dedup.ttlMs);
  return "params" in dedup
    ? `on ${dedup.params.join(", ")} (ttl ${ttl})`
    : `on header ${dedup.header} (ttl ${ttl})`;
}

/** A request a user can paste into a terminal to see a first sample. */
export function curlExample(integration: Integration): string {
  const lines = [`curl -X POST '${integration.url}'`, `  -H 'Content-Type: application/json'`];
  switch (integration.auth.type) {
    case "none":
      break;
    case "jwt":
      lines.push(`  -H 'Authorization: Bearer <token>'`);
      break;
    case "signature":
      lines.push(
        `  -H '${integration.auth.header ?? SIGNATURE_HEADER}: ${integration.auth.prefix ?? SIGNATURE_PREFIX}<HMAC of the body>'`,
      );
      break;
    default: {
      const unknown: never = integration.auth;
      throw new Error(`unknown auth ${JSON.stringify(unknown)}`);
    }
  }
  lines.push(`  -d '{"order_number": "1001", "customer_email": "a@example.com"}'`);
  return lines.join(" \\\n");
}
