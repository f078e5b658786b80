import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { MAX_BODY_DEPTH, MAX_BODY_LEAVES } from "../defaults.js";
import { HttpError, InletError, errorMessage } from "../errors.js";
import { httpError } from "../http-errors.js";
import { checkJsonLimits, flatten, formatFlattened, type FlattenInput } from "../ingest/flatten.js";

/** The keys --request reads; a sample's `request` holds them (and `method`, which has no paths). */
const REQUEST_KEYS = ["body", "headers", "query"] as const;

export function flattenCommand(): Command {
  return new Command("flatten")
    .description("print the flattened paths of a JSON body (a file, or stdin), as dedup.params accepts them")
    .argument("[file]", "JSON file; stdin when absent or -")
    .option("--request", "the JSON is a whole request: {body, headers, query}")
    .action(async (file: string | undefined, options: { request?: boolean }) => {
      const source = file ?? "stdin";
      const text =
        file === undefined || file === "-"
          ? await readStdin()
          : await readFile(file, "utf8").catch((error: unknown) => {
              throw new InletError("unreadable-file", `cannot read ${file}: ${errorMessage(error)}`);
            });
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new InletError("invalid-json", `${source} is not valid JSON: ${(error as Error).message}`);
      }
      const request = options.request ? asRequest(value, source) : { body: value };
      // In a request the body may be absent (headers and query alone); a body given is one the server took.
      if (!options.request || request.body !== undefined) checkAsServer(request.body, source);
      const output = formatFlattened(flatten(request));
      process.stdout.write(output === "" ? "" : `${output}\n`);
    });
}

/**
 * Refuses a body the server would refuse, with the server's status, code and message: paths
 * printed for a body no integration accepts would be paths no dedup.params ever sees.
 */
function checkAsServer(body: unknown, source: string): void {
  try {
    if (typeof body !== "object" || body === null) throw httpError("body-not-object");
    checkJsonLimits(body, { maxDepth: MAX_BODY_DEPTH, maxLeaves: MAX_BODY_LEAVES });
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    throw new InletError(
      error.code,
      `${source}: the server would answer ${error.status} ${error.code}: ${error.message}`,
    );
  }
}

/** The --request input: an object with at least one of REQUEST_KEYS, headers and query objects. */
function asRequest(value: unknown, source: string): FlattenInput {
  const found = requestProblem(value);
  if (found !== undefined) {
    throw new InletError(
      "invalid-request",
      `${source}: --request takes a request {${REQUEST_KEYS.join(", ")}} (headers and query objects), ` +
        `as a sample's "request" holds; ${found}: without --request, the JSON is the body`,
    );
  }
  return value as FlattenInput;
}

/** What is wrong with `value` as a request, in a few words; undefined when nothing is. */
function requestProblem(value: unknown): string | undefined {
  if (value === null) return "this is null";
  if (Array.isArray(value)) return "this is an array";
  if (typeof value !== "object") return `this is a ${typeof value}`;
  const request = value as Record<string, unknown>;
  if (!REQUEST_KEYS.some((key) => key in request)) return `this has none of ${REQUEST_KEYS.join(", ")}`;
  for (const key of ["headers", "query"] as const) {
    const part = request[key];
    if (part === undefined) continue;
    if (part === null) return `its ${key} is null`;
    if (Array.isArray(part)) return `its ${key} is an array`;
    if (typeof part !== "object") return `its ${key} is a ${typeof part}`;
  }
  return undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
