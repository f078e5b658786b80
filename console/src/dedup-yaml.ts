/** A flattened path that YAML reads back as the same string when written bare: `body.order_number`. */
const PLAIN_PATH = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;
const DURATION = /^[0-9]+(ms|s|m|h|d)$/;
/** Characters YAML does not allow raw in a stream (C1 controls but NEL, BOM, non-characters), which JSON leaves raw. */
const YAML_NON_PRINTABLE = /[\u007f-\u0084\u0086-\u009f\ufeff\ufffe\uffff]/g;

/**
 * A string as a YAML scalar: bare when that reads back unchanged, else double-quoted. A JSON
 * string is a valid YAML double-quoted scalar once the few characters YAML forbids raw are escaped.
 */
export function yamlString(text: string): string {
  if (PLAIN_PATH.test(text) || DURATION.test(text)) return text;
  return JSON.stringify(text).replace(
    YAML_NON_PRINTABLE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The `dedup:` block of an Integration document for the picked paths, in the order they were picked. */
export function dedupYaml(params: readonly string[], options?: { readonly ttl?: string }): string {
  const lines = ["dedup:", "  params:", ...params.map((param) => `    - ${yamlString(param)}`)];
  if (options?.ttl !== undefined) lines.push(`  ttl: ${yamlString(options.ttl)}`);
  return `${lines.join("\n")}\n`;
}
