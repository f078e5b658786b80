import { DEDUP_INDEX_INITIAL_SLOTS } from "../defaults.js";
import { DIGEST_WORDS, HashSlots, homeOf } from "./hash-slots.js";

/** A live key as the index reports it. `rowId` is what the owner attached at claim (SQLite's row). */
export interface IndexedKey {
  readonly firstEventId: string;
  readonly expiresAt: number;
  readonly rowId: number;
}

const UUID_BYTES = 16;
const UUID_CHARS = 36;
const DIGEST_BYTES = DIGEST_WORDS * Uint32Array.BYTES_PER_ELEMENT;
/** Expiry and row id (a float each), digest and first event id. */
const SLOT_BYTES = 2 * Float64Array.BYTES_PER_ELEMENT + DIGEST_BYTES + UUID_BYTES;
const DASH = 0x2d;
const HEX_SHA256_CHARS = DIGEST_WORDS * 8;

/**
 * Every live dedup key of a process, compactly: per slot the SHA-256 digest as eight 32-bit words,
 * the expiry, the first event's UUID as 16 bytes and the owner's row id, all in typed arrays, and
 * per scope a hash table from digest to slot (hash-slots.ts). A look-up decodes the hex hash into
 * words and reads a cell or two: no string is made per request and none is kept per key, so a
 * million keys take ~75 MB and leave the garbage collector nothing to trace. Slots freed by the
 * sweeper are reused; when most are free the arrays are compacted, so memory returns after a burst
 * of keys expires.
 */
export class DedupKeyIndex {
  readonly #scopes = new Map<string, HashSlots>();
  #digests!: Uint32Array;
  #expiresAt!: Float64Array;
  #rowIds!: Float64Array;
  #eventIds!: Buffer;
  #free: number[] = [];
  /** Slots below this were handed out at least once. */
  #used = 0;
  #live = 0;
  // A claim looks a hash up and then touches or sets it: the second call reuses the decoding.
  readonly #digest = new Uint32Array(DIGEST_WORDS);
  #digestOf = "";
  #home = 0;
  /** The key being set's first event id, decoded. */
  readonly #eventId = Buffer.alloc(UUID_BYTES);

  constructor() {
    this.#allocateArrays(DEDUP_INDEX_INITIAL_SLOTS);
  }

  get size(): number {
    return this.#live;
  }

  /** The key if it is in the index, expired or not (the sweeper removes expired ones). */
  get(scope: string, hexHash: string): IndexedKey | undefined {
    const slot = this.#find(scope, hexHash);
    if (slot === -1) return undefined;
    return {
      firstEventId: this.#eventIdAt(slot),
      expiresAt: this.#expiresAt[slot]!,
      rowId: this.#rowIds[slot]!,
    };
  }

  /** Records (or replaces) the key's first event and expiry. */
  set(scope: string, hexHash: string, key: IndexedKey): void {
    const digest = this.#decode(hexHash);
    // Checked before anything changes: a refused key leaves no trace.
    decodeUuid(key.firstEventId, this.#eventId, 0);
    let table = this.#scopes.get(scope);
    if (!table) {
      table = new HashSlots();
      this.#scopes.set(scope, table);
    }
    let slot = table.find(this.#digests, digest, this.#home);
    if (slot === -1) {
      slot = this.#allocate();
      this.#digests.set(digest, slot * DIGEST_WORDS);
      table.insert(this.#digests, slot, this.#home);
      this.#live += 1;
    }
    this.#expiresAt[slot] = key.expiresAt;
    this.#rowIds[slot] = key.rowId;
    this.#eventIds.set(this.#eventId, slot * UUID_BYTES);
  }

  /** Moves a live key's expiry (a duplicate renews it); false when the key is not indexed. */
  touch(scope: string, hexHash: string, expiresAt: number): boolean {
    const slot = this.#find(scope, hexHash);
    if (slot === -1) return false;
    this.#expiresAt[slot] = expiresAt;
    return true;
  }

  /** Forgets one key (undoing a claim that was not committed). */
  delete(scope: string, hexHash: string): void {
    const table = this.#scopes.get(scope);
    if (!table) return;
    const slot = table.find(this.#digests, this.#decode(hexHash), this.#home);
    if (slot === -1) return;
    table.remove(this.#digests, slot);
    if (table.size === 0) this.#scopes.delete(scope);
    this.#free.push(slot);
    this.#live -= 1;
  }

  /** Forgets every key expired at `nowMs`, telling `onRemoved` each one's row id; returns how many. */
  sweep(nowMs: number, onRemoved?: (rowId: number) => void): number {
    let removed = 0;
    for (const [scope, table] of this.#scopes) {
      const kept: number[] = [];
      for (const slot of table.slots()) {
        if (this.#expiresAt[slot]! > nowMs) {
          kept.push(slot);
          continue;
        }
        this.#free.push(slot);
        onRemoved?.(this.#rowIds[slot]!);
        removed += 1;
      }
      if (kept.length === 0) this.#scopes.delete(scope);
      else if (kept.length < table.size) table.reset(this.#digests, kept);
    }
    this.#live -= removed;
    if (this.#live * 4 < this.#used && this.#expiresAt.length > DEDUP_INDEX_INITIAL_SLOTS) this.#compact();
    return removed;
  }

  clear(): void {
    this.#scopes.clear();
    this.#allocateArrays(DEDUP_INDEX_INITIAL_SLOTS);
    this.#free = [];
    this.#used = 0;
    this.#live = 0;
  }

  #find(scope: string, hexHash: string): number {
    const digest = this.#decode(hexHash);
    return this.#scopes.get(scope)?.find(this.#digests, digest, this.#home) ?? -1;
  }

  #decode(hexHash: string): Uint32Array {
    if (hexHash !== this.#digestOf) {
      // Cleared first: a hash refused half-way must not leave the previous one's words to be reused.
      this.#digestOf = "";
      decodeSha256Hex(hexHash, this.#digest);
      this.#home = homeOf(this.#digest, 0);
      this.#digestOf = hexHash;
    }
    return this.#digest;
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#used === this.#expiresAt.length) this.#grow(this.#expiresAt.length * 2);
    return this.#used++;
  }

  #eventIdAt(slot: number): string {
    const hex = this.#eventIds.toString("hex", slot * UUID_BYTES, (slot + 1) * UUID_BYTES);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  #grow(slots: number): void {
    const digests = this.#digests;
    const expiresAt = this.#expiresAt;
    const rowIds = this.#rowIds;
    const eventIds = this.#eventIds;
    this.#allocateArrays(slots);
    this.#digests.set(digests);
    this.#expiresAt.set(expiresAt);
    this.#rowIds.set(rowIds);
    this.#eventIds.set(eventIds);
  }

  /** Moves the live keys into the first slots of arrays sized for them, releasing the rest. */
  #compact(): void {
    const digests = this.#digests;
    const expiresAt = this.#expiresAt;
    const rowIds = this.#rowIds;
    const eventIds = this.#eventIds;
    let slots = DEDUP_INDEX_INITIAL_SLOTS;
    while (slots < this.#live * 2) slots *= 2;
    this.#allocateArrays(slots);
    this.#free = [];
    this.#used = 0;
    for (const table of this.#scopes.values()) {
      const moved: number[] = [];
      for (const from of table.slots()) {
        const to = this.#used++;
        this.#digests.set(
          digests.subarray(from * DIGEST_WORDS, (from + 1) * DIGEST_WORDS),
          to * DIGEST_WORDS,
        );
        this.#expiresAt[to] = expiresAt[from]!;
        this.#rowIds[to] = rowIds[from]!;
        eventIds.copy(this.#eventIds, to * UUID_BYTES, from * UUID_BYTES, (from + 1) * UUID_BYTES);
        moved.push(to);
      }
      table.reset(this.#digests, moved);
    }
  }

  /**
   * Empty arrays of `slots` slots, all four in one allocation: a large one is always mapped on its
   * own and returned to the system when freed, where four of a quarter the size each would come
   * from malloc's heap once an earlier free has raised its mapping threshold, and stay after a
   * sweep (~30 MB a million keys, measured).
   */
  #allocateArrays(slots: number): void {
    const memory = new ArrayBuffer(slots * SLOT_BYTES);
    this.#expiresAt = new Float64Array(memory, 0, slots);
    this.#rowIds = new Float64Array(memory, slots * Float64Array.BYTES_PER_ELEMENT, slots);
    this.#digests = new Uint32Array(memory, slots * 2 * Float64Array.BYTES_PER_ELEMENT, slots * DIGEST_WORDS);
    this.#eventIds = Buffer.from(
      memory,
      slots * (2 * Float64Array.BYTES_PER_ELEMENT + DIGEST_BYTES),
      slots * UUID_BYTES,
    );
  }
}

/** 0–15 for a hex digit (upper case only when `upper` allows it), else -1. */
function hexDigit(code: number, upper: boolean): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (upper && code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * Lower-case hex only: any other spelling of the same bytes (upper case) would be a second key for
 * what the stores keep as one hex string, and Buffer's own decoding would read other characters
 * as other bytes rather than refuse them.
 */
function decodeSha256Hex(hex: string, into: Uint32Array): void {
  if (hex.length !== HEX_SHA256_CHARS) throw new TypeError("A dedup hash must be a lower-case hex SHA-256");
  for (let word = 0; word < DIGEST_WORDS; word += 1) {
    let value = 0;
    for (let at = word * 8; at < word * 8 + 8; at += 1) {
      const digit = hexDigit(hex.charCodeAt(at), false);
      if (digit === -1) throw new TypeError("A dedup hash must be a lower-case hex SHA-256");
      value = (value << 4) | digit;
    }
    into[word] = value;
  }
}

/** The UUID's 16 bytes into `into` at `offset`, without a string or Buffer per call. */
function decodeUuid(uuid: string, into: Buffer, offset: number): void {
  if (uuid.length !== UUID_CHARS) notUuid(uuid);
  let byte = offset;
  let high = -1;
  for (let at = 0; at < UUID_CHARS; at += 1) {
    const code = uuid.charCodeAt(at);
    if (at === 8 || at === 13 || at === 18 || at === 23) {
      if (code !== DASH) notUuid(uuid);
      continue;
    }
    const digit = hexDigit(code, true);
    if (digit === -1) notUuid(uuid);
    if (high === -1) {
      high = digit;
    } else {
      into[byte++] = (high << 4) | digit;
      high = -1;
    }
  }
}

function notUuid(uuid: string): never {
  throw new TypeError(`A first event id must be a UUID: ${uuid}`);
}
