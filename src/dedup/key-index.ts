import { DEDUP_INDEX_INITIAL_SLOTS } from "../defaults.js";

/** A live key as the index reports it. `rowId` is what the owner attached at claim (SQLite's row). */
export interface IndexedKey {
  readonly firstEventId: string;
  readonly expiresAt: number;
  readonly rowId: number;
}

const UUID_BYTES = 16;

/**
 * Every live dedup key of a process, compactly: per scope a Map from the 32-byte binary hash to a
 * slot, and per slot the expiry, the first event's UUID as 16 bytes and the owner's row id in
 * typed arrays. That is about a tenth of a Map of objects with hex strings, so a million keys fit
 * in ~150 MB. Slots freed by the sweeper are reused; when most are free the arrays are compacted,
 * so memory returns after a burst of keys expires.
 */
export class DedupKeyIndex {
  readonly #scopes = new Map<string, Map<string, number>>();
  #expiresAt = new Float64Array(DEDUP_INDEX_INITIAL_SLOTS);
  #rowIds = new Float64Array(DEDUP_INDEX_INITIAL_SLOTS);
  #eventIds = Buffer.alloc(DEDUP_INDEX_INITIAL_SLOTS * UUID_BYTES);
  #free: number[] = [];
  /** Slots below this were handed out at least once. */
  #used = 0;
  #live = 0;
  // A claim looks a hash up and then touches or sets it: the second call reuses the conversion.
  #lastHex = "";
  #lastBinary = "";

  get size(): number {
    return this.#live;
  }

  /** The key if it is in the index, expired or not (the sweeper removes expired ones). */
  get(scope: string, hexHash: string): IndexedKey | undefined {
    const slot = this.#scopes.get(scope)?.get(this.#binary(hexHash));
    if (slot === undefined) return undefined;
    return {
      firstEventId: this.#eventIdAt(slot),
      expiresAt: this.#expiresAt[slot]!,
      rowId: this.#rowIds[slot]!,
    };
  }

  /** Records (or replaces) the key's first event and expiry. */
  set(scope: string, hexHash: string, key: IndexedKey): void {
    let keys = this.#scopes.get(scope);
    if (!keys) {
      keys = new Map();
      this.#scopes.set(scope, keys);
    }
    const binary = this.#binary(hexHash);
    let slot = keys.get(binary);
    if (slot === undefined) {
      slot = this.#allocate();
      keys.set(binary, slot);
      this.#live += 1;
    }
    this.#write(slot, key);
  }

  /** Moves a live key's expiry (a duplicate renews it); false when the key is not indexed. */
  touch(scope: string, hexHash: string, expiresAt: number): boolean {
    const slot = this.#scopes.get(scope)?.get(this.#binary(hexHash));
    if (slot === undefined) return false;
    this.#expiresAt[slot] = expiresAt;
    return true;
  }

  /** Forgets one key (undoing a claim that was not committed). */
  delete(scope: string, hexHash: string): void {
    const keys = this.#scopes.get(scope);
    const binary = this.#binary(hexHash);
    const slot = keys?.get(binary);
    if (!keys || slot === undefined) return;
    keys.delete(binary);
    if (keys.size === 0) this.#scopes.delete(scope);
    this.#free.push(slot);
    this.#live -= 1;
  }

  /** Forgets every key expired at `nowMs`, telling `onRemoved` each one's row id; returns how many. */
  sweep(nowMs: number, onRemoved?: (rowId: number) => void): number {
    let removed = 0;
    for (const [scope, keys] of this.#scopes) {
      for (const [binary, slot] of keys) {
        if (this.#expiresAt[slot]! > nowMs) continue;
        keys.delete(binary);
        this.#free.push(slot);
        onRemoved?.(this.#rowIds[slot]!);
        removed += 1;
      }
      if (keys.size === 0) this.#scopes.delete(scope);
    }
    this.#live -= removed;
    if (this.#live * 4 < this.#used && this.#expiresAt.length > DEDUP_INDEX_INITIAL_SLOTS) this.#compact();
    return removed;
  }

  clear(): void {
    this.#scopes.clear();
    this.#resize(DEDUP_INDEX_INITIAL_SLOTS, []);
    this.#live = 0;
  }

  #binary(hexHash: string): string {
    if (hexHash !== this.#lastHex) {
      this.#lastBinary = binaryKey(hexHash);
      this.#lastHex = hexHash;
    }
    return this.#lastBinary;
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#used === this.#expiresAt.length) this.#grow(this.#expiresAt.length * 2);
    return this.#used++;
  }

  #write(slot: number, key: IndexedKey): void {
    this.#expiresAt[slot] = key.expiresAt;
    this.#rowIds[slot] = key.rowId;
    // Written in place: no Buffer per key.
    const written = this.#eventIds.write(
      key.firstEventId.replaceAll("-", ""),
      slot * UUID_BYTES,
      UUID_BYTES,
      "hex",
    );
    if (written !== UUID_BYTES) throw new TypeError(`A first event id must be a UUID: ${key.firstEventId}`);
  }

  #eventIdAt(slot: number): string {
    const hex = this.#eventIds.toString("hex", slot * UUID_BYTES, (slot + 1) * UUID_BYTES);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  #grow(slots: number): void {
    const expiresAt = new Float64Array(slots);
    expiresAt.set(this.#expiresAt);
    const rowIds = new Float64Array(slots);
    rowIds.set(this.#rowIds);
    const eventIds = Buffer.alloc(slots * UUID_BYTES);
    eventIds.set(this.#eventIds);
    this.#expiresAt = expiresAt;
    this.#rowIds = rowIds;
    this.#eventIds = eventIds;
  }

  /** Moves the live keys into the first slots of arrays sized for them, releasing the rest. */
  #compact(): void {
    const entries: Array<[Map<string, number>, string, IndexedKey]> = [];
    for (const keys of this.#scopes.values()) {
      for (const [binary, slot] of keys) {
        entries.push([
          keys,
          binary,
          {
            firstEventId: this.#eventIdAt(slot),
            expiresAt: this.#expiresAt[slot]!,
            rowId: this.#rowIds[slot]!,
          },
        ]);
      }
    }
    let slots = DEDUP_INDEX_INITIAL_SLOTS;
    while (slots < entries.length * 2) slots *= 2;
    this.#resize(slots, entries);
  }

  #resize(slots: number, entries: ReadonlyArray<[Map<string, number>, string, IndexedKey]>): void {
    this.#expiresAt = new Float64Array(slots);
    this.#rowIds = new Float64Array(slots);
    this.#eventIds = Buffer.alloc(slots * UUID_BYTES);
    this.#free = [];
    this.#used = 0;
    for (const [keys, binary, key] of entries) {
      const slot = this.#used++;
      keys.set(binary, slot);
      this.#write(slot, key);
    }
  }
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** 32 one-byte characters instead of 64 hex digits: half the memory for the Map's keys. */
function binaryKey(hexHash: string): string {
  // Anything else would decode to other bytes (Buffer reads the low 8 bits of any character, and
  // stops at the first that is not hex) and could collide with other keys.
  if (!HEX_SHA256.test(hexHash)) throw new TypeError("A dedup hash must be a lower-case hex SHA-256");
  return Buffer.from(hexHash, "hex").toString("latin1");
}
