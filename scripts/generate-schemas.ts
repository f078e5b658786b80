import { writeFile } from "node:fs/promises";
import path from "node:path";
import { schemaFiles, serializeSchema } from "../src/config/schema-files.js";
import { builtinRegistry } from "../src/nodes/registry.js";

/** Regenerates schemas/*.schema.json from the code (npm run schemas); a test fails when they drift. */
const outDir = path.resolve(process.argv[2] ?? "schemas");
for (const [name, schema] of Object.entries(schemaFiles(builtinRegistry))) {
  await writeFile(path.join(outDir, name), serializeSchema(schema));
  process.stdout.write(`wrote ${path.join(outDir, name)}\n`);
}
