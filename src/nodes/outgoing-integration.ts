import type { SchemaObject } from "ajv";
import * as defaults from "../defaults.js";
import { DURATION_PATTERN } from "../config/documents.js";
import { parseDurationMs } from "../config/units.js";
import { parseRetryAfter } from "../engine/retry.js";
import { NodeRunError, errorMessage } from "../errors.js";
import { REDACTED, REDACTED_HEADERS } from "../ingest/event.js";
import { nestsWithin } from "../ingest/flatten.js";

import type { CompiledText, CompiledValue, TemplateCompiler } from "../templates/compile-value.js";
import { isJsonContentType } from "./http-transport.js";
import type { CompileDeps, CompiledNode, NodeType, OutgoingResponse, RunContext } from "./node-type.js";
import {
  credentialHeaderNames,
  queryParts,
  recordedBody,
  SentCredentials,
  withRedactedParts,
  type QueryPart,
} from "./sent-credentials.js";

/** A receiver's session cookie is a credential too: never kept in run records. */
const SET_COOKIE = "set-cookie";
const AUTHORIZATION = "Authorization";

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
            properties: {
              type: true,
              name: { type: "string" },
              value: templated("Header value (template)."),
            },
            additionalProperties: false,
          },
        },
      ],
    },
    headers: { type: "object", additionalProperties: { type: "string" }, description: "Header templates." },
    query: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Query parameter templates.",
    },
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

type Scope = RunContext["scope"];

const RETRYABLE_STATUS = (status: number): boolean => status === 408 || status === 429 || status >= 500;
/** How much of an unexpected answer's body an error message quotes. */
const BODY_EXCERPT_CHARS = 200;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node.js accepts in a header value; CR and LF are the ones that could smuggle headers. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function compileExpectStatus(text: string): (status: number) => boolean {
  const accepted = text.split(",").map((part) => part.trim());
  return (status) =>
    accepted.some((pattern) =>
      pattern.endsWith("xx") ? Math.floor(status / 100) === Number(pattern[0]) : status === Number(pattern),
    );
}

/** The auth header to set, and the secrets it was made of that its value does not show as they are. */
type CompiledAuth = (scope: Scope) => { name: string; value: string; secrets: readonly string[] } | undefined;

/** The header the node's auth sets, known from its config. */
function authHeaderName(auth: OutgoingAuth | undefined): string | undefined {
  switch (auth?.type) {
    case "basic":
    case "bearer":
      return AUTHORIZATION;
    case "header":
      return auth.name;
    default:
      return undefined;
  }
}

function compileAuth(auth: OutgoingAuth | undefined, templates: TemplateCompiler): CompiledAuth {
  if (!auth) return () => undefined;
  switch (auth.type) {
    case "none":
      return () => undefined;
    case "basic": {
      const username = templates.text(auth.username, ["auth", "username"]);
      const password = templates.text(auth.password, ["auth", "password"]);
      return (scope) => {
        const secret = password.render(scope);
        const pair = `${username.render(scope)}:${secret}`;
        return {
          name: AUTHORIZATION,
          value: `Basic ${Buffer.from(pair).toString("base64")}`,
          secrets: [pair, secret],
        };
      };
    }
    case "bearer": {
      const token = templates.text(auth.token, ["auth", "token"]);
      return (scope) => ({ name: AUTHORIZATION, value: `Bearer ${token.render(scope)}`, secrets: [] });
    }
    case "header": {
      const value = templates.text(auth.value, ["auth", "value"]);
      return (scope) => ({ name: auth.name, value: value.render(scope), secrets: [] });
    }
    default: {
      const unknown: never = auth;
      throw new Error(`unknown auth type ${JSON.stringify(unknown)}`);
    }
  }
}

type CompiledBody =
  | { readonly kind: "none" }
  | { readonly kind: "structured"; readonly value: CompiledValue }
  | { readonly kind: "text"; readonly text: CompiledText };

function compileBody(body: unknown, templates: TemplateCompiler): CompiledBody {
  if (body === undefined) return { kind: "none" };
  if (typeof body === "string") return { kind: "text", text: templates.text(body, ["body"]) };
  return { kind: "structured", value: templates.value(body, ["body"]) };
}

function failure(code: string, message: string): NodeRunError {
  return new NodeRunError(code, message, { retryable: false });
}

/**
 * What is wrong with a rendered url, without quoting it: a webhook URL carries its secret in its
 * path, and the message is logged and kept in the run record. Most often a variable it reads has
 * no value, and the shape tells which part is missing.
 */
function whyNotAUrl(rendered: string): string {
  const text = rendered.trim();
  if (text === "") return "is empty: does a variable it reads (env.…) have no value?";
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    return "does not start with http:// or https://: does a variable at its start (env.…) have no value?";
  }
  return "is not a valid URL";
}

function buildUrl(rendered: string, query: readonly (readonly [string, string])[]): URL {
  let url: URL;
  try {
    url = new URL(rendered);
  } catch (error) {
    throw new NodeRunError("invalid-url", `the rendered url ${whyNotAUrl(rendered)}`, {
      retryable: false,
      cause: error,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw failure("invalid-url", `the rendered url must use http or https, not ${url.protocol}`);
  }
  for (const [name, value] of query) url.searchParams.append(name, value);
  return url;
}

function headerIndex(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(headers).find((key) => key.toLowerCase() === lower);
}

function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const existing = headerIndex(headers, name);
  if (existing !== undefined) delete headers[existing];
  headers[name] = value;
}

/** Checked before anything is sent: a rendered value must not be able to add headers or requests. */
function checkHeaders(headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw failure("header-invalid", `"${name}" is not a valid header name`);
    if (/[\r\n]/.test(value)) {
      throw failure(
        "header-invalid",
        `the rendered value of header ${name} contains CR or LF; nothing was sent`,
      );
    }
    if (!HEADER_VALUE.test(value)) {
      throw failure(
        "header-invalid",
        `the rendered value of header ${name} contains characters not allowed in HTTP headers`,
      );
    }
  }
}

/** Request headers as kept in run records: credentials (and the node's own auth header) redacted. */
function redactSentHeaders(
  headers: Readonly<Record<string, string>>,
  credentialHeaders: ReadonlySet<string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      credentialHeaders.has(name.toLowerCase()) ? REDACTED : value,
    ]),
  );
}

/**
 * Response headers as kept in run records and read by later nodes: only cookies are hidden by
 * name, as a token a login answers with (X-Auth-Token, X-Subject-Token) is what the next node
 * sends; what the node itself sent is scrubbed from them by SentCredentials.
 */
function redactReceivedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      const lower = name.toLowerCase();
      return [name, REDACTED_HEADERS.has(lower) || lower === SET_COOKIE ? REDACTED : value];
    }),
  );
}

/** The URL as kept in run records: user info (a password in the URL) removed, credential query values redacted. */
function recordedUrl(target: URL, query: readonly QueryPart[]): string {
  const hidden = query.some((part) => part.credential);
  if (target.username === "" && target.password === "" && !hidden) return target.href;
  const copy = new URL(target.href);
  copy.username = "";
  copy.password = "";
  if (hidden) copy.search = withRedactedParts(query);
  return copy.href;
}

function excerpt(body: unknown): string {
  const text = typeof body === "string" ? body : (JSON.stringify(body) ?? "");
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
}

function statusError(
  response: OutgoingResponse,
  target: string,
  sentCredentials: SentCredentials,
): NodeRunError {
  const body = excerpt(sentCredentials.scrub(response.body));
  const message = `${target} answered ${response.status}${body ? `: ${body}` : ""}`;
  if (RETRYABLE_STATUS(response.status)) {
    return new NodeRunError("http-status", message, {
      retryable: true,
      retryAfterMs: parseRetryAfter(response.headers["retry-after"], Date.now()),
    });
  }
  return new NodeRunError("http-status", message, { retryable: false });
}

function compileFields(
  fields: Record<string, string> | undefined,
  field: "query" | "headers",
  templates: TemplateCompiler,
): readonly (readonly [string, CompiledText])[] {
  return Object.entries(fields ?? {}).map(
    ([name, value]) => [name, templates.text(value, [field, name])] as const,
  );
}

// `run` is a closure over this function's scope, so only what it needs lives there: not the
// config document nor the template compiler, which would stay in memory as long as the snapshot.
function compileOutgoing(config: OutgoingConfig, deps: CompileDeps): CompiledNode {
  const { templates } = deps;
  const nodeId = config.id;
  const method = config.method;
  const url = templates.text(config.url, ["url"]);
  const query = compileFields(config.query, "query", templates);
  const headers = compileFields(config.headers, "headers", templates);
  const auth = compileAuth(config.auth, templates);
  const credentialHeaders = credentialHeaderNames(
    headers.map(([name]) => name),
    authHeaderName(config.auth),
  );
  const body = compileBody(config.body, templates);
  const timeoutMs = parseDurationMs(config.timeout ?? defaults.OUTGOING_TIMEOUT);
  if (timeoutMs < 1 || timeoutMs > defaults.OUTGOING_TIMEOUT_MAX_MS) {
    deps.invalid(["timeout"], `timeout must be from 1ms to ${defaults.OUTGOING_TIMEOUT_MAX}`);
  }
  const expectStatus = compileExpectStatus(config.expectStatus ?? defaults.OUTGOING_EXPECT_STATUS);

  function renderBody(
    scope: Scope,
    sent: Record<string, string>,
  ): { text: string | undefined; shown: unknown } {
    if (body.kind === "none") return { text: undefined, shown: undefined };
    if (method === "HEAD") throw failure("body-not-allowed", "a HEAD request cannot carry a body");
    if (headerIndex(sent, "Content-Type") === undefined) sent["Content-Type"] = "application/json";
    if (body.kind === "structured") {
      const value = body.value.render(scope);
      return { text: JSON.stringify(value), shown: value };
    }
    const text = body.text.render(scope);
    const contentType = sent[headerIndex(sent, "Content-Type") ?? ""];
    if (!isJsonContentType(contentType)) return { text, shown: text };
    let shown: unknown;
    try {
      shown = JSON.parse(text) as unknown;
    } catch (error) {
      throw new NodeRunError(
        "body-not-json",
        `the rendered body is not valid JSON (Content-Type ${contentType}): ${errorMessage(error)}`,
        { retryable: false, cause: error },
      );
    }
    if (!nestsWithin(shown, defaults.OUTGOING_BODY_MAX_DEPTH)) {
      throw failure(
        "body-too-deep",
        `the rendered body nests deeper than ${defaults.OUTGOING_BODY_MAX_DEPTH} levels; nothing was sent`,
      );
    }
    return { text, shown };
  }

  return {
    retry: { attempts: config.retry?.attempts ?? defaults.OUTGOING_ATTEMPTS },
    async run(ctx) {
      const { scope } = ctx;
      const target = buildUrl(
        url.render(scope),
        query.map(([name, value]) => [name, value.render(scope)] as const),
      );
      // No prototype, so a header named __proto__ stays an ordinary header.
      const sent = Object.create(null) as Record<string, string>;
      for (const [name, value] of headers) sent[name] = value.render(scope);
      const credentials = auth(scope);
      if (credentials) setHeader(sent, credentials.name, credentials.value);
      const rendered = renderBody(scope, sent);
      checkHeaders(sent);

      const request = { method, url: target.href, headers: sent, body: rendered.text };
      const response = await ctx.http.send(request, { nodeId, timeoutMs, signal: ctx.signal });
      const sentQuery = queryParts(target);
      const sentBody = recordedBody(rendered.shown, sent[headerIndex(sent, "Content-Type") ?? ""]);
      const sentCredentials = new SentCredentials(
        sent,
        credentialHeaders,
        [...(credentials?.secrets ?? []), ...sentBody.secrets],
        sentQuery,
      );
      if (!expectStatus(response.status))
        throw statusError(response, `${method} ${target.origin}${target.pathname}`, sentCredentials);
      return {
        output: {
          request: {
            method,
            url: recordedUrl(target, sentQuery),
            headers: redactSentHeaders(sent, credentialHeaders),
            body: sentBody.body,
          },
          response: {
            status: response.status,
            headers: sentCredentials.scrub(redactReceivedHeaders(response.headers)),
            body: sentCredentials.scrub(response.body),
          },
        },
      };
    },
  };
}

export const outgoingIntegration: NodeType<OutgoingConfig> = {
  type: "outgoing-integration",
  description: "Sends a templated HTTP request.",
  schema,
  compile(config, deps) {
    return compileOutgoing(config, deps);
  },
};
