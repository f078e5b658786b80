import { randomUUID } from "node:crypto";
import { MemoryStore } from "../src/store/memory-store.js";

const MB = 1024 * 1024;
const RELEASE_WAIT_MS = 2000;
const rssMb = (): number => Math.round(process.memoryUsage().rss / MB);

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** RSS of the memory store holding `keys` dedup keys, and after they expire and are swept. */
export async function measureDedupMemory(options: { keys: number }): Promise<{
  baselineMb: number;
  filledMb: number;
  sweptMb: number;
  swept: number;
}> {
  const store = new MemoryStore();
  collect();
  const baselineMb = rssMb();
  const ttlMs = 2000;
  for (let i = 0; i < options.keys; i += 1) {
    await store.accept({
      event: {
        eventId: randomUUID(),
        integration: "bench",
        endpointId: "e",
        method: "POST",
        time: 0,
        headers: {},
        query: {},
        body: {},
      },
      dedup: { scope: "bench", hash: `${i.toString(16).padStart(64, "0")}`, ttlMs },
      workflows: [],
    });
  }
  collect();
  const filledMb = rssMb();
  await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
  const swept = await store.sweepExpiredKeys(Date.now());
  collect();
  // V8 hands freed pages back to the system a moment after a collection, not during it.
  await new Promise((resolve) => setTimeout(resolve, RELEASE_WAIT_MS));
  collect();
  const sweptMb = rssMb();
  await store.close();
  return { baselineMb, filledMb, sweptMb, swept };
}
