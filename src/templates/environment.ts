import nunjucks from "nunjucks";

/**
 * The filter a lone `{{ expr }}` is compiled with: it hands the expression's value (not its text)
 * to the capture slot of the render context, so arrays and numbers keep their JSON type.
 */
export const CAPTURE_FILTER = "__inlet_capture";
/** The render-context key holding the per-render capture slot. */
export const CAPTURE_SLOT = "__inlet_capture_slot";

export interface CaptureSlot {
  value: unknown;
}

interface FilterThis {
  readonly ctx: Readonly<Record<string, unknown>>;
}

function capture(this: FilterThis, value: unknown): string {
  const slot = this.ctx[CAPTURE_SLOT] as CaptureSlot | undefined;
  if (slot) slot.value = value;
  return "";
}

function createEnvironment(options: { strict: boolean }): nunjucks.Environment {
  // autoescape off: templates build JSON, URLs and headers, not HTML.
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: options.strict });
  env.addFilter(CAPTURE_FILTER, capture);
  return env;
}

const strictEnvironment = createEnvironment({ strict: true });
const lenientEnvironment = createEnvironment({ strict: false });

/** The configured environment: `strict` makes outputting an undefined value an error. */
export function templateEnvironment(options: { strict: boolean }): nunjucks.Environment {
  return options.strict ? strictEnvironment : lenientEnvironment;
}
