import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { hashSecret } from "../src/auth/api-keys.js";

export const BENCH_API_SECRET = "bench-api-key-secret";

/** Where a body takes the number that makes each request new. */
export const ID_SLOT = "[<id>]";
/** The seed's cart event with a second product: 601 bytes as sent (with 12-character ids), as in issue 6's figures. */
export const BODY = JSON.stringify({
  customer_email: "example+[<id>]@example.com",
  order_number: "[<id>]",
  type: "email",
  language: "eng",
  businessProfileId: 611,
  products: [
    {
      name: "Earwax",
      category: "Hygiene",
      id: "abcdefgh",
      image_url: "http://exampleimage.url/earwax.png",
      product_url: "http://exampleproduct.url/earwax",
      group_id: "groupid",
      price: 4.99,
      quantity: 2,
    },
    {
      name: "Cotton",
      category: "Hygiene",
      id: "ijklmnop",
      image_url: "http://exampleimage.url/buds.png",
      product_url: "http://exampleproduct.url/buds",
      group_id: "groupid",
      price: 2.49,
      quantity: 1,
    },
  ],
  currency: "EUR",
  source: "webshop",
  channel: "mail",
});

/** Endpoint UUID number i, deterministic so the load generator can address it. */
export function endpointOf(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
}

/**
 * A config folder with `count` integrations (no auth, dedup on 2 params) plus the same with JWT
 * auth, each with one workflow sending the event to the sink; integration 0 is the one measured.
 */
export function writeBenchConfig(dir: string, options: { count: number; withWorkflows: boolean }): void {
  mkdirSync(path.join(dir, "integrations"), { recursive: true });
  mkdirSync(path.join(dir, "workflows"), { recursive: true });
  const integrations: string[] = [
    `kind: ApiKey\nid: bench\nsecretHash: ${hashSecret(BENCH_API_SECRET)}\npermissions: [incoming]\n`,
    `kind: Integration\nid: jwt\nendpoint: ${endpointOf(999_999)}\nauth: { type: jwt, apiKey: bench }\ndedup: { params: [body.order_number, body.customer_email] }\n`,
  ];
  const workflows: string[] = options.withWorkflows ? [forwardWorkflow("jwt")] : [];
  for (let i = 0; i < options.count; i += 1) {
    integrations.push(
      `kind: Integration\nid: shop-${i}\nendpoint: ${endpointOf(i)}\nauth: { type: none }\ndedup: { params: [body.order_number, body.customer_email] }\n`,
    );
    if (options.withWorkflows) workflows.push(forwardWorkflow(`shop-${i}`));
  }
  writeFileSync(path.join(dir, "integrations", "all.yaml"), integrations.join("---\n"));
  if (workflows.length > 0) writeFileSync(path.join(dir, "workflows", "all.yaml"), workflows.join("---\n"));
}

/** Sends each event of `integration` to the sink, with the accept time for the latency figure. */
function forwardWorkflow(integration: string): string {
  return [
    "kind: Workflow",
    `id: forward-${integration}`,
    `trigger: { type: business-event, integration: ${integration} }`,
    "nodes:",
    "  - id: send",
    "    type: outgoing-integration",
    "    method: POST",
    '    url: "{{ env.SINK_URL }}"',
    "    body:",
    '      eventId: "{{ request.eventId }}"',
    '      time: "{{ request.time }}"',
    '      email: "{{ request.body.customer_email }}"',
    "",
  ].join("\n");
}
