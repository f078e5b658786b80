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
