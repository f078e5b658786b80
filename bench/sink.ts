import { createServer } from "node:http";

/**
 * The receiver of the benchmark workflow: counts deliveries and the accept-to-delivery latency
 * (now − request.time, which the workflow sends). GET /stats answers the numbers.
 */
const latencies: number[] = [];
let received = 0;
const server = createServer((req, res) => {
  if (req.method === "GET") {
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    res.end(JSON.stringify({ received, p50: at(0.5), p99: at(0.99) }));
    if (req.url === "/stats?reset=1") {
      latencies.length = 0;
      received = 0;
    }
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { time: number };
    received += 1;
    latencies.push(Date.now() - body.time);
    res.end("{}");
  });
});
server.listen(Number(process.env["PORT"] ?? 0), () => {
  const address = server.address();
  process.stdout.write(`{"port":${typeof address === "object" && address ? address.port : 0}}\n`);
});
