import { describe, expect, it } from "vitest";
import { InletError, NodeRunError } from "../../src/errors.js";
import {
  createTemplateCache,
  createTemplateCompiler,
  type ConfigPath,
} from "../../src/templates/compile-value.js";

const INJECTION = '{{ range.constructor("return process")() }}';

function lenient() {
  return createTemplateCompiler({ strict: false });
}

const scope = {
  request: {
    body: {
      email: "a@b.c",
      products: [{ name: "Earwax", qty: 2 }],
      total: 12.5,
      paid: true,
      note: null,
      evil: INJECTION,
    },
  },
  vars: {},
};

describe("value()", () => {
  it("keeps a string without template markers as it is, without nunjucks", () => {
    const value = lenient().value({ a: "plain text", b: "{# not a comment", c: "a } b {", n: 3 }, []);
    expect(value.render(scope)).toEqual({ a: "plain text", b: "{# not a comment", c: "a } b {", n: 3 });
  });

  it("keeps the JSON type of a lone expression: arrays, numbers, booleans, null", () => {
    const value = lenient().value(
      {
        products: "{{ request.body.products }}",
        total: "  {{ request.body.total }} ",
        paid: "{{request.body.paid}}",
        note: "{{ request.body.note }}",
        count: "{{ request.body.products | length }}",
        trimmed: "{{- request.body.total -}}",
      },
      [],
    );
    expect(value.render(scope)).toEqual({
      products: [{ name: "Earwax", qty: 2 }],
      total: 12.5,
      paid: true,
      note: null,
      count: 1,
      trimmed: 12.5,
    });
  });

  it("renders text around an expression as a string", () => {
    const value = lenient().value({ label: "total: {{ request.body.total }}", two: "{{ 1 }}{{ 2 }}" }, []);
    expect(value.render(scope)).toEqual({ label: "total: 12.5", two: "12" });
  });

  it('treats a "}}" inside a string literal as part of the lone expression', () => {
    expect(lenient().value('{{ "}}" }}', []).render(scope)).toBe("}}");
  });

  it("renders every leaf of nested objects and arrays, leaving keys alone", () => {
    const value = lenient().value({ "{{ key }}": [{ email: "{{ request.body.email }}" }, "x"] }, []);
    expect(value.render(scope)).toEqual({ "{{ key }}": [{ email: "a@b.c" }, "x"] });
  });

  it("keeps a __proto__ key an ordinary key", () => {
    const value = lenient().value(JSON.parse('{"__proto__": {"polluted": "{{ 1 }}"}}'), []);
    const rendered = value.render(scope) as Record<string, unknown>;
    expect(Object.hasOwn(rendered, "__proto__")).toBe(true);
    expect((rendered as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("never renders request data as a template", () => {
    const value = lenient().value(
      { lone: "{{ request.body.evil }}", text: "x {{ request.body.evil }} y" },
      [],
    );
    expect(value.render(scope)).toEqual({ lone: INJECTION, text: `x ${INJECTION} y` });
  });
});

describe("undefined values", () => {
  it("render as an empty string when lenient, also as a lone expression", () => {
    const value = lenient().value(
      { lone: "{{ request.body.missing }}", deep: "a{{ request.nope.deeper }}b" },
      [],
    );
    expect(value.render(scope)).toEqual({ lone: "", deep: "ab" });
  });

  it("are an error naming the field when strict", () => {
    const strict = createTemplateCompiler({ strict: true });
    const lone = strict.value({ client: { email: "{{ request.body.missing }}" } }, ["body"]);
    const text = strict.text("x {{ request.body.missing }}", ["url"]);
    expect(() => lone.render(scope)).toThrow(NodeRunError);
    expect(() => lone.render(scope)).toThrow(/body\.client\.email/);
    expect(() => text.render(scope)).toThrow(/url/);
    try {
      text.render(scope);
    } catch (error) {
      expect(error).toMatchObject({ code: "template", retryable: false });
    }
    expect(strict.value("{{ request.body.email }}", []).render(scope)).toBe("a@b.c");
  });
});

describe("text()", () => {
  it("always renders text, also for a lone expression", () => {
    expect(lenient().text("{{ request.body.total }}", []).render(scope)).toBe("12.5");
    expect(lenient().text("{{ request.body.products | dump }}", []).render(scope)).toBe(
      '[{"name":"Earwax","qty":2}]',
    );
  });

  it("does not escape HTML", () => {
    expect(lenient().text("{{ '<a & b>' }}", []).render(scope)).toBe("<a & b>");
  });
});

describe("expression()", () => {
  it("evaluates a bare expression or one wrapped in {{ }} to its value", () => {
    const compiler = lenient();
    expect(compiler.expression("request.body.total > 10", ["if"]).evaluate(scope)).toBe(true);
    expect(compiler.expression("{{ request.body.email == 'x' }}", ["if"]).evaluate(scope)).toBe(false);
    expect(compiler.expression("request.body.products", ["if"]).evaluate(scope)).toEqual([
      { name: "Earwax", qty: 2 },
    ]);
  });

  it("reports a bare expression's syntax error at its own columns, not those of the braces around it", () => {
    const errors: string[] = [];
    const compiler = createTemplateCompiler({
      strict: false,
      onError: (_path, message) => errors.push(message),
    });
    compiler.expression("request.body.x ==", ["if"]);
    compiler.expression("request.body.x %% 2", ["if"]);
    compiler.expression("a | ", ["if"]);
    compiler.expression("a\n ==", ["if"]);
    expect(errors).toEqual([
      "the expression ends before it is complete (line 1, column 18)",
      "unexpected token: % (line 1, column 17)",
      "expected symbol, got the end of the expression (line 1, column 5)",
      "the expression ends before it is complete (line 2, column 4)",
    ]);
  });

  it("reports text that is not a single expression", () => {
    const errors: Array<[ConfigPath, string]> = [];
    createTemplateCompiler({
      strict: false,
      onError: (path, message) => errors.push([path, message]),
    }).expression("{{ a }} and {{ b }}", ["if"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toEqual(["if"]);
  });
});

describe("syntax errors", () => {
  it("go to onError with their path, and the compiled value fails if used", () => {
    const errors: Array<[ConfigPath, string]> = [];
    const compiler = createTemplateCompiler({
      strict: false,
      onError: (path, message) => errors.push([path, message]),
    });
    const value = compiler.value({ client: { email: "{{ request.body.email " } }, ["body"]);
    compiler.text("{% if %}", ["url"]);
    expect(errors.map(([path]) => path)).toEqual([["body", "client", "email"], ["url"]]);
    expect(errors[1]?.[1]).toMatch(/line 1, column \d+/);
    expect(errors[0]?.[1]).not.toMatch(/unknown path/);
    expect(() => value.render(scope)).toThrow(/invalid template/);
  });

  it("throw an InletError template-syntax when no onError is given", () => {
    expect(() => lenient().text("{{ a +", ["headers", "X-A"])).toThrow(InletError);
    try {
      lenient().text("{{ a +", ["headers", "X-A"]);
    } catch (error) {
      expect(error).toMatchObject({ code: "template-syntax" });
      expect((error as Error).message).toMatch(/^headers\.X-A: /);
    }
  });
});

describe("run-time errors", () => {
  it("are non-retryable NodeRunErrors naming the field", () => {
    const value = lenient().value({ n: "{{ request.body.nothing() }}" }, ["values"]);
    expect(() => value.render(scope)).toThrow(/template error in values\.n: .*undefined/);
  });
});

describe("a template cache shared by the workflows of one load", () => {
  it("compiles each source once per strictness: a strict and a lenient workflow keep their own behaviour", () => {
    const cache = createTemplateCache();
    const source = "{{ request.body.missing }} and {{ request.body.email }}";
    const strict = createTemplateCompiler({ strict: true, cache }).text(source, ["url"]);
    const lenientText = createTemplateCompiler({ strict: false, cache }).text(source, ["url"]);
    const compiled = cache.templates.get(`lenient:${source}`);
    const again = createTemplateCompiler({ strict: false, cache }).text(source, ["url"]);
    expect(cache.templates.size).toBe(2);
    expect(cache.templates.get(`lenient:${source}`)).toBe(compiled);
    expect(() => strict.render(scope)).toThrow(NodeRunError);
    expect(lenientText.render(scope)).toBe(" and a@b.c");
    expect(again.render(scope)).toBe(" and a@b.c");
  });

  it("shares a string compiled at the same path, and a render error names the path it is at", () => {
    const cache = createTemplateCache();
    const compile = (path: ConfigPath) =>
      createTemplateCompiler({ strict: true, cache }).value({ email: "{{ request.body.missing }}" }, path);
    const first = compile(["body"]);
    const second = compile(["body"]);
    const elsewhere = compile(["values"]);
    expect(cache.strings.size).toBe(2);
    expect(() => first.render(scope)).toThrow(/template error in body\.email: /);
    expect(() => second.render(scope)).toThrow(/template error in body\.email: /);
    expect(() => elsewhere.render(scope)).toThrow(/template error in values\.email: /);
  });

  it("reports a syntax error at each path that repeats the broken source", () => {
    const cache = createTemplateCache();
    const errors: ConfigPath[] = [];
    for (const path of [["a"], ["b"]]) {
      createTemplateCompiler({ strict: false, cache, onError: (at) => errors.push(at) }).value("{{ x ", path);
    }
    expect(errors).toEqual([["a"], ["b"]]);
  });
});
