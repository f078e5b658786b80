import { Command } from "commander";
import type { RunRecord } from "../store/store.js";
import { adminRequest } from "./admin-client.js";

export function runsCommand(): Command {
  const command = new Command("runs")
    .description("list recent runs of a running server, newest first")
    .option("--workflow <id>", "only this workflow")
    .option("--status <status>", "queued | running | succeeded | failed")
    .option("--limit <n>", "how many", "20")
    // Also read by `show` and `retry`: commander gives an option the parent declares to the parent,
    // wherever it is written, so the subcommands read it through optsWithGlobals().
    .option("--url <url>", "server URL (default: INLET_URL or http://localhost:$PORT)")
    .option("--json", "print the raw JSON answer")
    .action(
      async (options: {
        workflow?: string;
        status?: string;
        limit: string;
        url?: string;
        json?: boolean;
      }) => {
        const query = new URLSearchParams({ limit: options.limit });
        if (options.workflow) query.set("workflow", options.workflow);
        if (options.status) query.set("status", options.status);
        const answer = (await adminRequest(options, "GET", `/v1/admin/runs?${query}`)) as {
          runs: RunRecord[];
        };
        if (options.json) {
          process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
          return;
        }
        for (const run of answer.runs) {
          const error = run.error ? `  ${run.error}` : "";
          process.stdout.write(
            `${run.runId}  ${run.status.padEnd(9)} ${run.workflow}  ${run.startedAt ?? "-"}${error}\n`,
          );
        }
      },
    );
  command
    .command("show")
    .description("one run with its nodes")
    .argument("<runId>")
    .action(async (runId: string, _options: unknown, show: Command) => {
      const run = await adminRequest(
        show.optsWithGlobals(),
        "GET",
        `/v1/admin/runs/${encodeURIComponent(runId)}`,
      );
      process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    });
  command
    .command("retry")
    .description("run a failed run again on the same event (a new run)")
    .argument("<runId>")
    .action(async (runId: string, _options: unknown, retry: Command) => {
      const answer = (await adminRequest(
        retry.optsWithGlobals(),
        "POST",
        `/v1/admin/runs/${encodeURIComponent(runId)}/retry`,
      )) as {
        runId: string;
      };
      process.stdout.write(`queued run ${answer.runId}\n`);
    });
  return command;
}
