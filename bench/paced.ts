import http from "node:http";
import { performance } from "node:perf_hooks";

const TICK_MS = 1;
const MAX_SOCKETS = 64;

export interface PacedResult {
  readonly p50: number;
  readonly p99: number;
  /** Answers by status code. */
  readonly statuses: Readonly<Record<number, number>>;
  readonly errors: number;
}

/**
 * Sends `rate` requests per second, spread over millisecond ticks, and times each from its send
 * to the end of its answer. autocannon's own rate limit sends each second's requests in one burst
 * at the start of the second, so its latency measures the queue of that burst (raw node:http
 * shows a p99 of ~9 ms at "1,000 req/s" that way), not the server at that rate.
 */
export async function pacedLoad(options: {
  url: string;
  rate: number;
  durationS: number;
  headers: Record<string, string>;
  body: () => string;
}): Promise<PacedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const total = Math.round(options.rate * options.durationS);
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  let sent = 0;
  let done = 0;
  const start = performance.now();

  await new Promise<void>((resolve) => {
    const finishOne = (): void => {
      done += 1;
      if (done === total) resolve();
    };
    const fire = (): void => {
      const body = options.body();
      const sentAt = performance.now();
      const request = http.request(options.url, {
        method: "POST",
        agent,
        headers: { ...options.headers, "content-length": Buffer.byteLength(body) },
      });
      request.on("response", (response) => {
        response.resume();
        response.on("end", () => {
          latencies.push(performance.now() - sentAt);
          statuses[response.statusCode ?? 0] = (statuses[response.statusCode ?? 0] ?? 0) + 1;
          finishOne();
        });
      });
      request.on("error", () => {
        errors += 1;
        finishOne();
      });
      request.end(body);
    };
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000) + 1);
      for (; sent < due; sent += 1) fire();
      if (sent >= total) clearInterval(timer);
    }, TICK_MS);
  });
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), statuses, errors };
}
