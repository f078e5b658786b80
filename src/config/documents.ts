import type { SchemaObject } from "ajv";
import * as defaults from "../defaults.js";

/**
 * The document kinds users write, as TypeScript types and JSON Schemas (draft 2020-12).
 * The types are written by hand because ajv's JSONSchemaType handles these unions badly;
 * test/config/documents.test.ts validates typed fixtures against the schemas so they cannot drift.
 * The Workflow schema's node items are composed from the node registry (see workflow-schema.ts).
 */

export const ID_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$";
export const DURATION_PATTERN = "^[0-9]+(ms|s|m|h|d)$";
export const SIZE_PATTERN = "^[0-9]+(b|kb|mb)$";
export const RATE_PATTERN = "^[0-9]+/(s|m|h)$";
export const UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

export type AuthConfig =
  | { type: "none" }
  | { type: "jwt"; apiKey: string }
  | { type: "jwt"; jwks: string; issuer: string; audience: string }
  | { type: "signature"; secretEnv: string; header?: string; algorithm?: string; prefix?: string };

export type DedupConfig = { params: string[]; ttl?: string } | { header: string; ttl?: string };

export interface IntegrationDoc {
  kind: "Integration";
  id: string;
  name?: string;
  icon?: string;
  endpoint: string;
  enabled?: boolean;
  auth: AuthConfig;
  dedup?: DedupConfig;
  rateLimit?: string;
  maxBodySize?: string;
  samples?: number;
}

export interface ApiKeyDoc {
  kind: "ApiKey";
  id: string;
  description?: string;
  secretHash?: string;
  secretEnv?: string;
  permissions: string[];
  tokenTtl?: string;
  enabled?: boolean;
}

/** Fields every node has; the rest are the node type's own (its schema). */
export interface NodeDocBase {
  id: string;
  type: string;
  name?: string;
  next?: string | string[];
}

export interface WorkflowDoc {
  kind: "Workflow";
  id: string;
  name?: string;
  enabled?: boolean;
  strict?: boolean;
  trigger: { type: "business-event"; integration: string };
  nodes: Array<NodeDocBase & Record<string, unknown>>;
}

export interface CannedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ExpectedCall {
  node?: string;
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface WorkflowTestCase {
  name: string;
  request?: {
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    query?: Record<string, string>;
  };
  env?: Record<string, string>;
  responses?: Record<string, CannedResponse | CannedResponse[]>;
  expect?: {
    status?: "succeeded" | "failed";
    calls?: ExpectedCall[];
    vars?: Record<string, unknown>;
  };
}

export interface WorkflowTestDoc {
  kind: "WorkflowTest";
  workflow: string;
  cases: WorkflowTestCase[];
}

export type ConfigDoc = IntegrationDoc | ApiKeyDoc | WorkflowDoc | WorkflowTestDoc;
export type DocKind = ConfigDoc["kind"];
export const DOC_KINDS: readonly DocKind[] = ["Integration", "ApiKey", "Workflow", "WorkflowTest"];

const SCHEMA_BASE = "https://inlet.dev/schemas/";
const DRAFT = "https://json-schema.org/draft/2020-12/schema";

const id = {
  type: "string",
  pattern: ID_PATTERN,
  description: "Unique id of this document within its kind.",
};
const duration = (description: string, def?: string): SchemaObject => ({
  type: "string",
  pattern: DURATION_PATTERN,
  description,
  ...(def === undefined ? {} : { default: def }),
});

export const INTEGRATION_SCHEMA: SchemaObject = {
  $schema: DRAFT,
  $id: `${SCHEMA_BASE}integration.schema.json`,
  title: "Integration",
  description:
    "An incoming integration: a webhook endpoint that authenticates, deduplicates and records requests.",
  type: "object",
  required: ["kind", "id", "endpoint", "auth"],
  additionalProperties: false,
  properties: {
    kind: { const: "Integration" },
    id,
    name: { type: "string", description: "Free text shown to people." },
    icon: { type: "string", description: "An icon name shown in the console." },
    endpoint: {
      type: "string",
      pattern: UUID_PATTERN,
      description: "Random UUID; the endpoint URL is POST {public URL}/v1/incoming/{endpoint}.",
    },
    enabled: { type: "boolean", default: true, description: "false answers 404 at the endpoint." },
    auth: {
      description: "How senders authenticate.",
      type: "object",
      required: ["type"],
      properties: { type: { enum: ["none", "jwt", "signature"] } },
      // Each `if` requires `type`: without it, a missing type would pass every `if` and report
      // every branch's fields as wrong, besides the missing type itself.
      allOf: [
        {
          if: { required: ["type"], properties: { type: { const: "none" } } },
          then: { properties: { type: true }, additionalProperties: false },
        },
        {
          if: { required: ["type"], properties: { type: { const: "jwt" } } },
          then: {
            if: { properties: { jwks: true }, required: ["jwks"] },
            then: {
              required: ["jwks", "issuer", "audience"],
              properties: {
                type: true,
                jwks: {
                  type: "string",
                  format: "uri",
                  description: "JWK set URL of the sender's identity provider.",
                },
                issuer: { type: "string", description: "Required `iss` of the tokens." },
                audience: { type: "string", description: "Required `aud` of the tokens." },
              },
              additionalProperties: false,
            },
            else: {
              required: ["apiKey"],
              properties: {
                type: true,
                apiKey: {
                  type: "string",
                  pattern: ID_PATTERN,
                  description: "The ApiKey whose tokens are accepted.",
                },
              },
              additionalProperties: false,
            },
          },
        },
        {
          if: { required: ["type"], properties: { type: { const: "signature" } } },
          then: {
            required: ["secretEnv"],
            properties: {
              type: true,
              secretEnv: {
                type: "string",
                pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
                description: "Environment variable holding the HMAC secret.",
              },
              header: {
                type: "string",
                default: defaults.SIGNATURE_HEADER,
                description: "Header carrying the signature.",
              },
              algorithm: { enum: ["sha1", "sha256", "sha512"], default: defaults.SIGNATURE_ALGORITHM },
              prefix: {
                type: "string",
                default: defaults.SIGNATURE_PREFIX,
                description: "Text before the hex digest.",
              },
            },
            additionalProperties: false,
          },
        },
      ],
    },
    dedup: {
      description: "Deduplication: a hash of up to 5 request paths, or a client-supplied hash header.",
      type: "object",
      // Said on its own (validate-schema.ts): else the branch for `header` calls `params` unknown.
      not: { properties: { params: true, header: true }, required: ["params", "header"] },
      if: { properties: { header: true }, required: ["header"] },
      then: {
        properties: {
          header: {
            type: "string",
            pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
            description: "Header holding a client-computed hash.",
          },
          ttl: duration("How long a key lives after the last request that carried it.", defaults.DEDUP_TTL),
        },
        additionalProperties: false,
      },
      else: {
        required: ["params"],
        properties: {
          params: {
            type: "array",
            minItems: 1,
            maxItems: defaults.DEDUP_MAX_PARAMS,
            items: { type: "string", description: "A flattened path: body.…, headers.… or query.…" },
          },
          ttl: duration("How long a key lives after the last request that carried it.", defaults.DEDUP_TTL),
        },
        additionalProperties: false,
      },
    },
    rateLimit: {
      type: "string",
      pattern: RATE_PATTERN,
      description: "e.g. 50/s; over it → 429 + Retry-After.",
    },
    maxBodySize: {
      type: "string",
      pattern: SIZE_PATTERN,
      default: defaults.MAX_BODY_SIZE,
      description: "Largest body accepted, counted after gzip/deflate decoding.",
    },
    samples: {
      type: "integer",
      minimum: 0,
      maximum: 1000,
      default: defaults.SAMPLES,
      description: "How many received requests to keep for Retrieve data; 0 keeps none.",
    },
  },
};

export const APIKEY_SCHEMA: SchemaObject = {
  $schema: DRAFT,
  $id: `${SCHEMA_BASE}apikey.schema.json`,
  title: "ApiKey",
  description: "An API key that can be exchanged for JWTs at POST /v1/auth/token.",
  type: "object",
  required: ["kind", "id", "permissions"],
  additionalProperties: false,
  oneOf: [
    { properties: { secretHash: true }, required: ["secretHash"] },
    { properties: { secretEnv: true }, required: ["secretEnv"] },
  ],
  properties: {
    kind: { const: "ApiKey" },
    id,
    description: { type: "string" },
    secretHash: {
      type: "string",
      pattern: "^sha256:[0-9a-f]{64}$",
      description: "sha256:<hex SHA-256 of the secret>; written by `inlet apikey new`.",
    },
    secretEnv: {
      type: "string",
      pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
      description: "Environment variable holding the secret.",
    },
    permissions: {
      type: "array",
      items: { enum: ["incoming"] },
      uniqueItems: true,
      description: "Without `incoming` the key cannot authenticate to endpoints.",
    },
    tokenTtl: duration("Lifetime of issued tokens (max 24h).", defaults.TOKEN_TTL),
    enabled: {
      type: "boolean",
      default: true,
      description: "false revokes the key and every token it issued.",
    },
  },
};

/** The Workflow schema with `nodeItem` (composed from the registry) as the schema of each node. */
export function workflowSchema(nodeItem: SchemaObject): SchemaObject {
  return {
    $schema: DRAFT,
    $id: `${SCHEMA_BASE}workflow.schema.json`,
    title: "Workflow",
    description: "A node graph run for each event accepted by its trigger's integration.",
    type: "object",
    required: ["kind", "id", "trigger", "nodes"],
    additionalProperties: false,
    properties: {
      kind: { const: "Workflow" },
      id,
      name: { type: "string" },
      enabled: { type: "boolean", default: true },
      strict: {
        type: "boolean",
        default: false,
        description: "true makes an undefined template value an error.",
      },
      trigger: {
        type: "object",
        required: ["type", "integration"],
        additionalProperties: false,
        properties: {
          type: { const: "business-event", description: "Fed by an incoming integration." },
          integration: { type: "string", pattern: ID_PATTERN, description: "Id of the Integration." },
        },
      },
      nodes: { type: "array", minItems: 1, items: nodeItem },
    },
  };
}

const stringMap = { type: "object", additionalProperties: { type: "string" } };

export const WORKFLOW_TEST_SCHEMA: SchemaObject = {
  $schema: DRAFT,
  $id: `${SCHEMA_BASE}workflowtest.schema.json`,
  title: "WorkflowTest",
  description: "Offline test cases for a workflow, run by `inlet test`.",
  type: "object",
  required: ["kind", "workflow", "cases"],
  additionalProperties: false,
  properties: {
    kind: { const: "WorkflowTest" },
    workflow: { type: "string", pattern: ID_PATTERN },
    cases: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["name"],
        additionalProperties: false,
        properties: {
          name: { type: "string" },
          request: {
            type: "object",
            additionalProperties: false,
            properties: {
              method: { enum: ["POST", "PUT"] },
              body: { type: ["object", "array"] },
              headers: stringMap,
              query: stringMap,
            },
          },
          env: stringMap,
          responses: {
            type: "object",
            description:
              "Canned responses per outgoing node id (default 200 {}); a list answers attempts in order.",
            additionalProperties: {
              anyOf: [{ $ref: "#/$defs/response" }, { type: "array", items: { $ref: "#/$defs/response" } }],
            },
          },
          expect: {
            type: "object",
            additionalProperties: false,
            properties: {
              status: { enum: ["succeeded", "failed"] },
              calls: {
                type: "array",
                items: {
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    node: { type: "string" },
                    method: { type: "string" },
                    url: { type: "string" },
                    headers: stringMap,
                    body: {},
                  },
                },
              },
              vars: { type: "object" },
            },
          },
        },
      },
    },
  },
  $defs: {
    response: {
      type: "object",
      additionalProperties: false,
      properties: {
        status: { type: "integer", minimum: 100, maximum: 599 },
        headers: stringMap,
        body: {},
      },
    },
  },
};
