import type { WorkflowTestCase, WorkflowTestDoc } from "../config/documents.js";
import type { CompiledWorkflow } from "../engine/compile-workflow.js";
import { executeRun } from "../engine/execute-run.js";
import { errorMessage } from "../errors.js";
import { redactHeaders, type IncomingEvent } from "../ingest/event.js";
import { createCannedTransport, type RecordedCall } from "./canned-transport.js";
import { formatMismatches, matchSubset, type Mismatch } from "./match.js";

export interface TestCaseResult {
  readonly file: string;
  readonly workflow: string;
  readonly name: string;
  readonly passed: boolean;
  /** What the run ended as, or null when it could not run at all (see `error`). */
  readonly status: "succeeded" | "failed" | null;
  /** The run's error (a failed node), or why the case could not run. */
  readonly error: string | null;
  readonly calls: readonly RecordedCall[];
  readonly mismatches: readonly Mismatch[];
}

export interface TestReport {
  readonly cases: readonly TestCaseResult[];
  readonly passed: number;
  readonly failed: number;
}

/** Header names compare case-insensitively, as HTTP does. */
function lowerCaseHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function eventFor(testCase: WorkflowTestCase, workflow: CompiledWorkflow, id: string): IncomingEvent {
  const request = testCase.request ?? {};
  return {
    eventId: id,
    integration: workflow.integration,
    endpointId: "test",
    method: request.method ?? "POST",
    time: Date.now(),
    // The same redaction as real requests, so templates see what they would see in production.
    headers: redactHeaders(request.headers ?? {}),
    query: request.query ?? {},
    body: request.body ?? {},
  };
}

async function runCase(options: {
  file: string;
  workflow: CompiledWorkflow;
  testCase: WorkflowTestCase;
  id: string;
}): Promise<TestCaseResult> {
  const { testCase, workflow } = options;
  const transport = createCannedTransport(testCase.responses ?? {});
  const outcome = await executeRun({
    workflow,
    event: eventFor(testCase, workflow, options.id),
    runId: options.id,
    http: transport,
    env: Object.freeze({ ...testCase.env }),
    signal: new AbortController().signal,
    onNode: async () => {},
    // Retries happen (and are counted as calls) without waiting for their backoff.
    sleep: async () => {},
  });
  const status = outcome.status === "interrupted" ? null : outcome.status;
  const expect = testCase.expect ?? {};
  const mismatches: Mismatch[] = [...matchSubset(expect.status ?? "succeeded", status, "status")];
  if (expect.calls) {
    const actual = transport.calls.map((call) => ({ ...call, headers: lowerCaseHeaders(call.headers) }));
    const expected = expect.calls.map(({ headers, ...call }) =>
      headers ? { ...call, headers: lowerCaseHeaders(headers) } : call,
    );
    mismatches.push(...matchSubset(expected, actual, "calls"));
  }
  if (expect.vars) mismatches.push(...matchSubset(expect.vars, outcome.vars, "vars"));
  return {
    file: options.file,
    workflow: workflow.id,
    name: testCase.name,
    passed: mismatches.length === 0,
    status,
    error: outcome.error,
    calls: transport.calls,
    mismatches,
  };
}

/**
 * Runs WorkflowTest cases through the real executor, offline: the one swapped part is the HTTP
 * transport, which answers with each case's canned responses.
 */
export async function runWorkflowTests(options: {
  workflows: ReadonlyMap<string, CompiledWorkflow>;
  tests: readonly { file: string; doc: WorkflowTestDoc }[];
}): Promise<TestReport> {
  const cases: TestCaseResult[] = [];
  for (const { file, doc } of options.tests) {
    const workflow = options.workflows.get(doc.workflow);
    for (const [index, testCase] of doc.cases.entries()) {
      const base = { file, workflow: doc.workflow, name: testCase.name, calls: [], mismatches: [] };
      if (!workflow) {
        cases.push({
          ...base,
          passed: false,
          status: null,
          error: `workflow "${doc.workflow}" is not loaded`,
        });
        continue;
      }
      try {
        cases.push(await runCase({ file, workflow, testCase, id: `test-${doc.workflow}-${index + 1}` }));
      } catch (error) {
        cases.push({
          ...base,
          passed: false,
          status: null,
          error: `the run could not execute: ${errorMessage(error)}`,
        });
      }
    }
  }
  const passed = cases.filter((result) => result.passed).length;
  return { cases, passed, failed: cases.length - passed };
}

/** ✓/✗ per case grouped by file, each failure's differences, and `N passed, N failed`. */
export function formatTestReport(report: TestReport): string {
  const lines: string[] = [];
  let group = "";
  for (const result of report.cases) {
    const heading = `${result.file} (${result.workflow})`;
    if (heading !== group) {
      group = heading;
      lines.push(heading);
    }
    lines.push(`  ${result.passed ? "✓" : "✗"} ${result.name}`);
    if (result.passed) continue;
    for (const line of formatMismatches(result.mismatches)) lines.push(`      ${line}`);
    if (result.error) lines.push(`      error: ${result.error}`);
  }
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines.join("\n");
}
