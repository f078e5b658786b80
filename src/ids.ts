import { randomUUID } from "node:crypto";

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then the 74 random bits of a v4 UUID. Ids
 * minted together sort together, so the stores' id indexes grow at their right edge instead of
 * dirtying a random page per insert, and ids list in time order.
 */
export function timeOrderedId(nowMs: number = Date.now()): string {
  const random = randomUUID();
  const time = nowMs.toString(16).padStart(12, "0");
  // random is xxxxxxxx-xxxx-4xxx-yxxx-…: keep from the version nibble's successor on, set version 7.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
