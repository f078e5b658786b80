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

/**
 * A bare expression's syntax error as its author wrote it: nunjucks parsed it inside the `{{ `
 * and ` }}` added around it, so its columns are three too far, and a missing operand shows as an
 * unexpected closing `}}` no one wrote.
 */
function asWritten(error: Error, expression: string): Error {
  const lines = expression.split("\n");
  const message = error.message
    .replace(/\[Line (\d+), Column (\d+)\]/, (_match, line: string, col: string) => {
      const shift = line === "1" ? "{{ ".length : 0;
      const end = (lines[Number(line) - 1]?.length ?? 0) + 1;
      return `[Line ${line}, Column ${Math.min(Math.max(1, Number(col) - shift), end)}]`;
    })
    .replace(/unexpected token: }}$/, "the expression ends before it is complete")
    .replace(/got variable-end$/, "got the end of the expression");
  return new Error(message, { cause: error });
}

function renderError(path: ConfigPath, message: string, cause?: unknown): NodeRunError {
  return new NodeRunError("template", `template error in ${formatConfigPath(path)}: ${message}`, {
    retryable: false,
    cause,
  });
}

/**
 * What the workflows of one config load share. Generated configs repeat the same templates
 * across thousands of workflows: a nunjucks template is ~1 KB of generated code, and a compiled
 * string ~200 bytes of closure and path, so each is built once per load. Rendering keeps no
 * state in either, so sharing is safe.
 */
export interface TemplateCache {
  /** nunjucks templates (or their syntax error) by strictness and source. */
  readonly templates: Map<string, nunjucks.Template | Error>;
  /** Compiled strings by strictness, mode, field path (their errors name it) and source. */
  readonly strings: Map<string, Render>;
}

export function createTemplateCache(): TemplateCache {
  return { templates: new Map(), strings: new Map() };
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

// The renders are built by module-level functions, so each closes over its own few values only:
// one made inside the compiler would keep the compiler's whole scope alive for as long as the
// snapshot lives (~1 KB a node, 10 MB with 10,000 workflows).

function constantRender(value: unknown): Render {
  return () => value;
}

function failingRender(path: ConfigPath, message: string): Render {
  return () => {
    throw renderError(path, `invalid template: ${message}`);
  };
}

function textRender(template: nunjucks.Template, path: ConfigPath): (scope: TemplateScope) => string {
  return (scope) => {
    try {
      return template.render(scope);
    } catch (error) {
      throw renderError(path, cleanMessage(error), error);
    }
  };
}

function captureRender(
  template: nunjucks.Template,
  path: ConfigPath,
  source: string,
  strict: boolean,
): Render {
  return (scope) => {
    const slot: CaptureSlot = { value: undefined };
    try {
      // Assigned, not spread with the slot after it (eslint.config.js); the scope's keys are its
      // own data properties, none named __proto__.
      template.render(Object.assign({ [CAPTURE_SLOT]: slot }, scope));
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

function arrayRender(items: readonly Render[]): Render {
  return (scope) => items.map((item) => item(scope));
}

function objectRender(entries: readonly (readonly [string, Render])[]): Render {
  // fromEntries defines own properties, so a "__proto__" key stays an ordinary key.
  return (scope) => Object.fromEntries(entries.map(([key, item]) => [key, item(scope)]));
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
  const strictness = strict ? "strict" : "lenient";

  /** Compiles once per source and strictness within the cache's load. */
  function compile(source: string): nunjucks.Template | Error {
    const key = `${strictness}:${source}`;
    const cached = cache?.templates.get(key);
    if (cached) return cached;
    const compiled = tryCompile(source, env);
    cache?.templates.set(key, compiled);
    return compiled;
  }

  function syntaxError(path: ConfigPath, error: unknown): Render {
    const message = cleanMessage(error);
    if (!options.onError) {
      throw new InletError("template-syntax", `${formatConfigPath(path)}: ${message}`, { cause: error });
    }
    options.onError(path, message);
    return failingRender(path, message);
  }

  /** The expression inside a lone `{{ … }}`, compiled to capture its value; undefined when not lone. */
  function compileLone(source: string, path: ConfigPath): Render | undefined {
    const inner = LONE_EXPRESSION.exec(source)?.[1];
    if (inner === undefined) return undefined;
    // A source such as "{{ a }} {{ b }}" also matches the pattern, but "(a }} {{ b)" does not parse.
    const template = compile(`{{ (${inner}) | ${CAPTURE_FILTER} }}`);
    return template instanceof Error ? undefined : captureRender(template, path, source, strict);
  }

  function compileString(source: string, path: ConfigPath, mode: "value" | "text"): Render {
    if (!TEMPLATE_MARKERS.test(source)) return constantRender(source);
    // A syntax error is not kept: each string that repeats it is reported at its own position.
    const key = `${strictness}:${mode}:${JSON.stringify(path)}:${source}`;
    const cached = cache?.strings.get(key);
    if (cached) return cached;
    const template = compile(source);
    if (template instanceof Error) return syntaxError(path, template);
    const render = (mode === "value" ? compileLone(source, path) : undefined) ?? textRender(template, path);
    cache?.strings.set(key, render);
    return render;
  }

  function compileStructure(value: unknown, path: ConfigPath): Render {
    if (typeof value === "string") return compileString(value, path, "value");
    if (Array.isArray(value)) {
      return arrayRender(value.map((item, index) => compileStructure(item, [...path, index])));
    }
    if (value !== null && typeof value === "object") {
      return objectRender(
        Object.entries(value).map(([key, item]) => [key, compileStructure(item, [...path, key])] as const),
      );
    }
    return constantRender(value);
  }

  return {
    value(value, path) {
      return { render: compileStructure(value, path) };
    },
    text(text, path) {
      // In text mode a render is a string: the source itself, or a template's output.
      return { render: compileString(text, path, "text") as (scope: TemplateScope) => string };
    },
    expression(expression, path) {
      const braced = LONE_EXPRESSION.exec(expression)?.[1];
      const source = `{{ ${braced ?? expression} }}`;
      const template = compile(source);
      if (template instanceof Error) {
        return {
          evaluate: syntaxError(path, braced === undefined ? asWritten(template, expression) : template),
        };
      }
      const lone = compileLone(source, path);
      if (!lone)
        return { evaluate: syntaxError(path, new Error(`"${expression}" is not a single expression`)) };
      return { evaluate: lone };
    },
  };
}
