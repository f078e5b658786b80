import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { InletError, errorMessage } from "../errors.js";
import { flatten, formatFlattened } from "../ingest/flatten.js";

export function flattenCommand(): Command {
  return new Command("flatten")
    .description("print the flattened paths of a JSON body (a file, or stdin), as dedup.params accepts them")
    .argument("[file]", "JSON file; stdin when absent or -")
    .option("--request", "the JSON is a whole request: {body, headers, query}")
    .action(async (file: string | undefined, options: { request?: boolean }) => {
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
        throw new InletError(
          "invalid-json",
          `${file ?? "stdin"} is not valid JSON: ${(error as Error).message}`,
        );
      }
      if (options.request && (typeof value !== "object" || value === null || Array.isArray(value))) {
        throw new InletError(
          "invalid-request",
          `${file ?? "stdin"}: --request takes an object {body, headers, query}`,
        );
      }
      const request = options.request
        ? (value as { body?: unknown; headers?: Record<string, string>; query?: Record<string, string> })
        : { body: value };
      const output = formatFlattened(flatten(request));
      process.stdout.write(output === "" ? "" : `${output}\n`);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
