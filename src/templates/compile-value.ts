import nunjucks from "nunjucks";
import { InletError, NodeRunError, errorMessage } from "../errors.js";
import { CAPTURE_FILTER, CAPTURE_SLOT, type CaptureSlot, templateEnvironment } from "./environment.js";

/** The read-only context templates render against (SPEC 2.4). */
export type TemplateScope = Readonly<Record<string, unknown>>;

/** A path inside a node's config, e.g. ["body", "client", "email"]; used to position errors. */
export type ConfigPath = readonly (string | number)[];

export interface CompiledValue {
  /** A structured value rendered leaf by leaf; a leaf that is one lone `{{ expr }}` keeps its JSON type. */
  render(scope: TemplateScope): unknown;
}

export interface CompiledText {
  render(scope: TemplateScope): string;
}

export interface CompiledExpression {
  evaluate(scope: TemplateScope): unknown;
}

/**
 * Compiles template strings once per snapshot. A syntax error is reported through the compiler's
 * `onError` with the path, so validation can collect every problem with its position.
 */
export interface TemplateCompiler {
  value(value: unknown, path: ConfigPath): CompiledValue;
  text(text: string, path: ConfigPath): CompiledText;
  /** A bare Jinja expression (`request.body.type == 'email'`); `{{ … }}` around it is accepted too. */
  expression(expression: string, path: ConfigPath): CompiledExpression;
}

const TEMPLATE_MARKERS = /\{\{|\{%/;
const LONE_EXPRESSION = /^\s*\{\{-?([\s\S]*?)-?\}\}\s*$/;

type Render = (scope: TemplateScope) => unknown;

/** "body.client.email", "headers.X-Source", "values.items[2]" — how a user finds the field. */
export function formatConfigPath(path: ConfigPath): string {
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      return index === 0 ? segment : `.${segment}`;
    })
    .join("");
}

/** nunjucks prefixes "(unknown path) [Line 1, Column 7]\n  "; keep the message and its position. */
function cleanMessage(error: unknown): string {
  const message = errorMessage(error);
  const match = /^\([^)\n]*\)(?: \[Line (\d+)(?:, Column (\d+))?\])?\n\s*([\s\S]*)$/.exec(message);
  if (!match) return message;
  const [, line, col, rest = ""] = match;
  const where = line ? ` (line ${line}${col ? `, column ${col}` : ""})` : "";
  const text = rest
    .replace(/^Error: /, "")
    .replace(
      "attempted to output null or undefined value",
      "a value is undefined or null (the workflow is strict)",
    );
  return `${text}${where}`;
}

function renderError(path: ConfigPath, message: string, cause?: unknown): NodeRunError {
  return new NodeRunError("template", `template error in ${formatConfigPath(path)}: ${message}`, {
    retryable: false,
    cause,
  });
}

/**
 * Compiled templates by strictness and source, shared by the workflows of one config load: a
 * compiled template is ~1 KB of generated code, and generated configs repeat the same templates
 * across thousands of workflows. Rendering keeps no state in the template, so sharing is safe.
 */
export type TemplateCache = Map<string, nunjucks.Template | Error>;

export function createTemplateCache(): TemplateCache {
  return new Map();
}

function tryCompile(source: string, env: nunjucks.Environment): nunjucks.Template | Error {
  try {
    return new nunjucks.Template(source, env, undefined, true);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function unwrapSafeString(value: unknown): unknown {
  return value instanceof nunjucks.runtime.SafeString ? value.toString() : value;
}

/**
 * Compiles template strings once (at config load) with the workflow's strictness. Request data
 * only ever enters as render context, and rendered output is never rendered again, so a value
 * such as `{{ range.constructor(…) }}` in a request arrives literally.
 */
export function createTemplateCompiler(options: {
  strict: boolean;
  onError?: (path: ConfigPath, message: string) => void;
  cache?: TemplateCache;
}): TemplateCompiler {
  const { strict, cache } = options;
  const env = templateEnvironment({ strict });

  /** Compiles once per source and strictness within the cache's load. */
  function compile(source: string): nunjucks.Template | Error {
    const key = `${strict ? "strict" : "lenient"}:${source}`;
    const cached = cache?.get(key);
    if (cached) return cached;
    const compiled = tryCompile(source, env);
    cache?.set(key, compiled);
    return compiled;
  }

  function syntaxError(path: ConfigPath, error: unknown): Render {
    const message = cleanMessage(error);
    if (!options.onError) {
      throw new InletError("template-syntax", `${formatConfigPath(path)}: ${message}`, { cause: error });
    }
    options.onError(path, message);
    return () => {
      throw renderError(path, `invalid template: ${message}`);
    };
  }

  function renderText(template: nunjucks.Template, path: ConfigPath): (scope: TemplateScope) => string {
    return (scope) => {
      try {
        return template.render(scope);
      } catch (error) {
        throw renderError(path, cleanMessage(error), error);
      }
    };
  }

  function renderCapture(template: nunjucks.Template, path: ConfigPath, source: string): Render {
    return (scope) => {
      const slot: CaptureSlot = { value: undefined };
      try {
        template.render({ ...scope, [CAPTURE_SLOT]: slot });
      } catch (error) {
        throw renderError(path, cleanMessage(error), error);
      }
      if (slot.value === undefined) {
        if (strict) throw renderError(path, `${source.trim()} is undefined (the workflow is strict)`);
        return "";
      }
      return unwrapSafeString(slot.value);
    };
  }

  /** The expression inside a lone `{{ … }}`, compiled to capture its value; undefined when not lone. */
  function compileLone(source: string, path: ConfigPath): Render | undefined {
    const inner = LONE_EXPRESSION.exec(source)?.[1];
    if (inner === undefined) return undefined;
    // A source such as "{{ a }} {{ b }}" also matches the pattern, but "(a }} {{ b)" does not parse.
    const template = compile(`{{ (${inner}) | ${CAPTURE_FILTER} }}`);
    return template instanceof Error ? undefined : renderCapture(template, path, source);
  }

  function compileString(source: string, path: ConfigPath, mode: { keepType: boolean }): Render {
    if (!TEMPLATE_MARKERS.test(source)) return () => source;
    const template = compile(source);
    if (template instanceof Error) return syntaxError(path, template);
    return (mode.keepType ? compileLone(source, path) : undefined) ?? renderText(template, path);
  }

  function compileStructure(value: unknown, path: ConfigPath): Render {
    if (typeof value === "string") return compileString(value, path, { keepType: true });
    if (Array.isArray(value)) {
      const items = value.map((item, index) => compileStructure(item, [...path, index]));
      return (scope) => items.map((item) => item(scope));
    }
    if (value !== null && typeof value === "object") {
      const entries = Object.entries(value).map(
        ([key, item]) => [key, compileStructure(item, [...path, key])] as const,
      );
      // fromEntries defines own properties, so a "__proto__" key stays an ordinary key.
      return (scope) => Object.fromEntries(entries.map(([key, item]) => [key, item(scope)]));
    }
    return () => value;
  }

  return {
    value(value, path) {
      return { render: compileStructure(value, path) };
    },
    text(text, path) {
      const render = compileString(text, path, { keepType: false });
      return { render: (scope) => String(render(scope)) };
    },
    expression(expression, path) {
      const inner = LONE_EXPRESSION.exec(expression)?.[1] ?? expression;
      const source = `{{ ${inner} }}`;
      const template = compile(source);
      if (template instanceof Error) return { evaluate: syntaxError(path, template) };
      const lone = compileLone(source, path);
      if (!lone)
        return { evaluate: syntaxError(path, new Error(`"${expression}" is not a single expression`)) };
      return { evaluate: lone };
    },
  };
}
