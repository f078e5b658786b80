import type { SchemaObject } from "ajv";
import * as defaults from "../defaults.js";
import { DURATION_PATTERN } from "../config/documents.js";
import type { NodeType } from "./node-type.js";

export type OutgoingAuth =
  | { type: "none" }
  | { type: "basic"; username: string; password: string }
  | { type: "bearer"; token: string }
  | { type: "header"; name: string; value: string };

export interface OutgoingConfig {
  id: string;
  method: string;
  url: string;
  auth?: OutgoingAuth;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  timeout?: string;
  retry?: { attempts?: number };
  expectStatus?: string;
}

const templated = (description: string): SchemaObject => ({ type: "string", description });

const schema: SchemaObject = {
  type: "object",
  required: ["method", "url"],
  properties: {
    method: { enum: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], description: "HTTP method." },
    url: templated("Target URL (template)."),
    auth: {
      type: "object",
      required: ["type"],
      properties: { type: { enum: ["none", "basic", "bearer", "header"] } },
      allOf: [
        {
          if: { properties: { type: { const: "none" } } },
          then: { properties: { type: true }, additionalProperties: false },
        },
        {
          if: { properties: { type: { const: "basic" } } },
          then: {
            required: ["username", "password"],
            properties: { type: true, username: templated("User name."), password: templated("Password.") },
            additionalProperties: false,
          },
        },
        {
          if: { properties: { type: { const: "bearer" } } },
          then: {
            required: ["token"],
            properties: { type: true, token: templated("Bearer token (template).") },
            additionalProperties: false,
          },
        },
        {
          if: { properties: { type: { const: "header" } } },
          then: {
            required: ["name", "value"],
            properties: { type: true, name: { type: "string" }, value: templated("Header value (template).") },
            additionalProperties: false,
          },
        },
      ],
    },
    headers: { type: "object", additionalProperties: { type: "string" }, description: "Header templates." },
    query: { type: "object", additionalProperties: { type: "string" }, description: "Query parameter templates." },
    body: {
      description:
        "An object or array is sent as JSON with every string leaf rendered alone; a string is rendered as text.",
    },
    timeout: { type: "string", pattern: DURATION_PATTERN, default: defaults.OUTGOING_TIMEOUT },
    retry: {
      type: "object",
      additionalProperties: false,
      properties: {
        attempts: {
          type: "integer",
          minimum: 1,
          maximum: 10,
          default: defaults.OUTGOING_ATTEMPTS,
          description: "Attempts in all, including the first.",
        },
      },
    },
    expectStatus: {
      type: "string",
      pattern: "^[1-5]([0-9]{2}|xx)(\\s*,\\s*[1-5]([0-9]{2}|xx))*$",
      default: defaults.OUTGOING_EXPECT_STATUS,
      description: "Statuses that count as success, e.g. 2xx or 200,201.",
    },
  },
};

export const outgoingIntegration: NodeType<OutgoingConfig> = {
  type: "outgoing-integration",
  description: "Sends a templated HTTP request.",
  schema,
  compile() {
    throw new Error("implemented in the engine issue");
  },
};
