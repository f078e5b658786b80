import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The named Prometheus metrics of SPEC 6, on a registry of their own (no global state). */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<"integration" | "status">;
  readonly duplicates: Counter<"integration">;
  readonly runs: Counter<"workflow" | "status">;
  readonly nodeDuration: Histogram<"workflow" | "type" | "status">;
  readonly storeLatency: Histogram<"operation">;
  readonly reloads: Counter<"result">;
}

export function createMetrics(options?: { defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (options?.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "inlet_" });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: "inlet_incoming_requests_total",
      help: "Requests to incoming endpoints by integration and HTTP status",
      labelNames: ["integration", "status"],
      registers,
    }),
    duplicates: new Counter({
      name: "inlet_incoming_duplicates_total",
      help: "Requests answered 204 as duplicates",
      labelNames: ["integration"],
      registers,
    }),
    runs: new Counter({
      name: "inlet_runs_total",
      help: "Finished workflow runs by workflow and status",
      labelNames: ["workflow", "status"],
      registers,
    }),
    nodeDuration: new Histogram({
      name: "inlet_node_duration_seconds",
      help: "Node execution time, all attempts included",
      labelNames: ["workflow", "type", "status"],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    storeLatency: new Histogram({
      name: "inlet_store_latency_seconds",
      help: "Latency of store operations on the request path",
      labelNames: ["operation"],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    reloads: new Counter({
      name: "inlet_config_reloads_total",
      help: "Config reloads by result",
      labelNames: ["result"],
      registers,
    }),
  };
}
