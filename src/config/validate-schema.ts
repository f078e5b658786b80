import { Ajv2020, type ErrorObject, type SchemaObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import {
  APIKEY_SCHEMA,
  DURATION_PATTERN,
  ID_PATTERN,
  INTEGRATION_SCHEMA,
  RATE_PATTERN,
  SIZE_PATTERN,
  UUID_PATTERN,
  WORKFLOW_TEST_SCHEMA,
  type DocKind,
} from "./documents.js";
import type { Diagnostic } from "./diagnostics.js";
import { locate, type DocumentSource, type JsonPath } from "./positions.js";
import { composeWorkflowSchema } from "./workflow-schema.js";
import type { NodeRegistry } from "../nodes/registry.js";

/** Plain words for the patterns users meet, instead of the regular expressions. */
const PATTERN_HINTS: Readonly<Record<string, string>> = {
  [ID_PATTERN]: "lower-case letters, digits and dashes, at most 63, starting with a letter or digit",
  [DURATION_PATTERN]: "a duration such as 500ms, 10s, 5m, 1h or 7d",
  [SIZE_PATTERN]: "a size such as 512kb or 1mb",
  [RATE_PATTERN]: "a rate such as 50/s, 600/m or 1000/h",
  [UUID_PATTERN]:
    "a UUID such as 3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11 (`inlet new integration` generates one)",
};

export type SchemaValidators = Readonly<Record<DocKind, ValidateFunction>>;

/** Compiles the four document schemas once; the Workflow schema is composed from the registry. */
export function compileSchemas(registry: NodeRegistry): SchemaValidators {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv, ["uri"]);
  const compile = (schema: SchemaObject): ValidateFunction => ajv.compile(schema);
  return {
    Integration: compile(INTEGRATION_SCHEMA),
    ApiKey: compile(APIKEY_SCHEMA),
    Workflow: compile(composeWorkflowSchema(registry)),
    WorkflowTest: compile(WORKFLOW_TEST_SCHEMA),
  };
}

/** Validates one document; every ajv error becomes a positioned Diagnostic with a readable message. */
export function validateDocument(
  validate: ValidateFunction,
  value: unknown,
  source: DocumentSource,
): Diagnostic[] {
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  // A oneOf error says it in one line; the failures inside each of its branches only add noise.
  const oneOfPaths = errors
    .filter((error) => error.keyword === "oneOf")
    .map((error) => `${error.schemaPath}/`);
  // A `not` names fields that exclude each other; "unknown field" for one of them says it worse.
  const exclusive = new Map(
    errors
      .filter((error) => error.keyword === "not")
      .map((error) => [error.instancePath, notFields(validate.schema, error)] as const),
  );
  return errors
    .filter(
      (error) =>
        error.keyword !== "if" &&
        !oneOfPaths.some((prefix) => error.schemaPath.startsWith(prefix)) &&
        !(
          error.keyword === "additionalProperties" &&
          exclusive
            .get(error.instancePath)
            ?.includes(String((error.params as Record<string, unknown>)["additionalProperty"]))
        ),
    )
    .map((error) => {
      const { path, at, message } = describe(error, validate.schema);
      const { line, col } = locate(source, path, { at });
      return { file: source.file, line, col, code: "schema" as const, severity: "error" as const, message };
    });
}

function describe(
  error: ErrorObject,
  root: ValidateFunction["schema"],
): { path: JsonPath; at: "key" | "value"; message: string } {
  const path = pointerToPath(error.instancePath);
  const where = path.length > 0 ? `${path.join(".")}: ` : "";
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return {
        path,
        at: "value",
        message: `${where}missing required field "${String(params["missingProperty"])}"`,
      };
    case "additionalProperties":
      return {
        path: [...path, String(params["additionalProperty"])],
        at: "key",
        message: `${where}unknown field "${String(params["additionalProperty"])}"`,
      };
    case "enum":
      return {
        path,
        at: "value",
        message: `${where}must be one of: ${(params["allowedValues"] as unknown[]).map(String).join(", ")}`,
      };
    case "const":
      return { path, at: "value", message: `${where}must be "${String(params["allowedValue"])}"` };
    case "pattern": {
      const hint = PATTERN_HINTS[String(params["pattern"])];
      return {
        path,
        at: "value",
        message: `${where}must be ${hint ?? `a string matching ${String(params["pattern"])}`}`,
      };
    }
    case "not":
      return { path, at: "value", message: `${where}set ${notFields(root, error).join(" or ")}, not both` };
    case "oneOf":
      if (path.length === 0)
        return { path, at: "value", message: "set exactly one of secretHash and secretEnv" };
      return { path, at: "value", message: `${where}must be a node id or a list of node ids` };
    default:
      return { path, at: "value", message: `${where}${error.message ?? "is invalid"}` };
  }
}

/** The fields a `not: {required: […]}` says cannot all be set. */
function notFields(root: unknown, error: ErrorObject): string[] {
  return (schemaAt(root, error.schemaPath) as { required?: string[] } | undefined)?.required ?? [];
}

/** The part of the schema a `#/…` schema path names (ajv gives the path, not the part, unless verbose). */
function schemaAt(root: unknown, schemaPath: string): unknown {
  let at = root;
  for (const segment of pointerToPath(schemaPath.replace(/^#/, ""))) {
    at = at !== null && typeof at === "object" ? (at as Record<string, unknown>)[segment] : undefined;
  }
  return at;
}

function pointerToPath(pointer: string): JsonPath {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}
