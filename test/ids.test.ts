import { describe, expect, it } from "vitest";
import { timeOrderedId } from "../src/ids.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("timeOrderedId", () => {
  it("is a UUIDv7 carrying the given milliseconds in its first 48 bits", () => {
    const now = Date.UTC(2026, 10, 28, 12, 0, 0, 123);
    const id = timeOrderedId(now);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it("sorts by time, and differs within one millisecond", () => {
    const earlier = timeOrderedId(1_000);
    const later = timeOrderedId(1_001);
    expect(earlier < later).toBe(true);
    const same = new Set(Array.from({ length: 1000 }, () => timeOrderedId(5_000)));
    expect(same.size).toBe(1000);
    expect([...same].every((id) => id.startsWith(timeOrderedId(5_000).slice(0, 15)))).toBe(true);
  });
});
