import { Command } from "commander";
import { formatFlattened } from "../ingest/flatten.js";
import type { Sample } from "../store/store.js";
import { adminRequest } from "./admin-client.js";

export function samplesCommand(): Command {
  return new Command("samples")
    .description("print the kept samples of an integration, flattened: the paths dedup.params accepts")
    .argument("<integration-id>")
    .option("--url <url>", "server URL (default: INLET_URL or http://localhost:$PORT)")
    .option("--json", "print the raw JSON answer")
    .action(async (id: string, options: { url?: string; json?: boolean }) => {
      const answer = (await adminRequest(
        options,
        "GET",
        `/v1/admin/integrations/${encodeURIComponent(id)}/samples`,
      )) as {
        samples: Sample[];
      };
      if (options.json) {
        process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
        return;
      }
      if (answer.samples.length === 0) {
        process.stdout.write(`no samples kept for ${id} yet: send a request to its endpoint\n`);
        return;
      }
      for (const sample of answer.samples) {
        process.stdout.write(
          `# ${sample.receivedAt}  event ${sample.eventId}\n${formatFlattened(sample.flattened)}\n\n`,
        );
      }
    });
}
