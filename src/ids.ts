import { randomUUID } from "node:crypto";

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then the 74 random bits of a v4 UUID. Ids
 * minted together sort together, so the stores' id indexes grow at their right edge instead of
 * dirtying a random page per insert, and ids list in time order.
 */
export function timeOrderedId(nowMs: number = Date.now()): string {
  if (nowMs !== prefixMs) {
    const time = nowMs.toString(16).padStart(12, "0");
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixMs = nowMs;
  }
  // randomUUID is xxxxxxxx-xxxx-4xxx-yxxx-…: keep what follows its version nibble.
  return prefix + randomUUID().slice(15);
}

// Many ids are minted in the same millisecond: their time part is formatted once.
let prefixMs = -1;
let prefix = "";
