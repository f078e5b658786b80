import { DEDUP_SCOPE_INITIAL_CELLS } from "../defaults.js";

/** A SHA-256 digest as 32-bit words. */
export const DIGEST_WORDS = 8;

/**
 * One scope's keys: an open-addressing table (linear probing) from a SHA-256 digest to the slot
 * of the key index that holds it. The digests live in the index's `digests` array, DIGEST_WORDS
 * words a slot; a cell holds slot + 1, and 0 when empty. The table is kept at most half full: a
 * look-up reads one or two cells.
 */
export class HashSlots {
  #cells: Int32Array;
  #size = 0;

  constructor() {
    this.#cells = new Int32Array(DEDUP_SCOPE_INITIAL_CELLS);
  }

  get size(): number {
    return this.#size;
  }

  /** The slot holding `digest` (whose homeOf is `home`), or -1. */
  find(digests: Uint32Array, digest: Uint32Array, home: number): number {
    const cells = this.#cells;
    const mask = cells.length - 1;
    for (let cell = home & mask; ; cell = (cell + 1) & mask) {
      const entry = cells[cell]!;
      if (entry === 0) return -1;
      if (sameDigest(digests, (entry - 1) * DIGEST_WORDS, digest)) return entry - 1;
    }
  }

  /** Adds `slot`, whose digest (in `digests`, with homeOf `home`) this table does not hold yet. */
  insert(digests: Uint32Array, slot: number, home: number): void {
    if ((this.#size + 1) * 2 > this.#cells.length) {
      this.#rebuild(digests, this.slots(), this.#cells.length * 2);
    }
    place(this.#cells, slot, home);
    this.#size += 1;
  }

  /** Takes `slot` out; the keys after it move back, so no marker is left where it was. */
  remove(digests: Uint32Array, slot: number): void {
    const cells = this.#cells;
    const mask = cells.length - 1;
    let hole = homeOf(digests, slot * DIGEST_WORDS) & mask;
    while (cells[hole] !== slot + 1) {
      if (cells[hole] === 0) return;
      hole = (hole + 1) & mask;
    }
    cells[hole] = 0;
    this.#size -= 1;
    for (let next = (hole + 1) & mask; cells[next] !== 0; next = (next + 1) & mask) {
      const home = homeOf(digests, (cells[next]! - 1) * DIGEST_WORDS) & mask;
      // It may move back into the hole when the hole lies between its home cell and where it is.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        cells[hole] = cells[next]!;
        cells[next] = 0;
        hole = next;
      }
    }
  }

  /** Every slot held. */
  slots(): number[] {
    const slots: number[] = [];
    for (const entry of this.#cells) if (entry !== 0) slots.push(entry - 1);
    return slots;
  }

  /** Holds exactly `slots` from now on (after a sweep or a renumbering), sized for them. */
  reset(digests: Uint32Array, slots: readonly number[]): void {
    let cells = DEDUP_SCOPE_INITIAL_CELLS;
    while (cells < slots.length * 2) cells *= 2;
    this.#rebuild(digests, slots, cells);
  }

  #rebuild(digests: Uint32Array, slots: readonly number[], cellCount: number): void {
    const cells = new Int32Array(cellCount);
    for (const slot of slots) place(cells, slot, homeOf(digests, slot * DIGEST_WORDS));
    this.#cells = cells;
    this.#size = slots.length;
  }
}

function place(cells: Int32Array, slot: number, home: number): void {
  const mask = cells.length - 1;
  let cell = home & mask;
  while (cells[cell] !== 0) cell = (cell + 1) & mask;
  cells[cell] = slot + 1;
}

/**
 * Where a digest belongs: all its words mixed, not only the first, so that keys which are not
 * SHA-256 output (a test's counters, say) spread as well and cannot pile up in one run of cells.
 */
export function homeOf(words: Uint32Array, at: number): number {
  let home = 0;
  for (let word = 0; word < DIGEST_WORDS; word += 1) home = Math.imul(home ^ words[at + word]!, MIX);
  return home ^ (home >>> 16);
}

/** An odd constant with well-spread bits (2^32 divided by the golden ratio). */
const MIX = 0x9e3779b1;

function sameDigest(digests: Uint32Array, at: number, digest: Uint32Array): boolean {
  for (let word = 0; word < DIGEST_WORDS; word += 1) {
    if (digests[at + word] !== digest[word]) return false;
  }
  return true;
}
