import type { Diagnostic } from "./diagnostics.js";
import type { Snapshot } from "./snapshot.js";

/** The one mutable reference to config state; requests read `current` once at entry. */
export class SnapshotHolder {
  #current: Snapshot;
  #lastReload: ReloadRecord;

  constructor(initial: Snapshot) {
    this.#current = initial;
    this.#lastReload = Object.freeze({ at: initial.loadedAt, ok: true, errors: [] });
  }

  get current(): Snapshot {
    return this.#current;
  }

  get lastReload(): ReloadRecord {
    return this.#lastReload;
  }

  swap(next: Snapshot): void {
    this.#current = next;
    this.#lastReload = Object.freeze({ at: next.loadedAt, ok: true, errors: [] });
  }

  recordFailure(at: Date, errors: readonly Diagnostic[]): void {
    this.#lastReload = Object.freeze({ at, ok: false, errors: Object.freeze([...errors]) });
  }
}

export interface ReloadRecord {
  readonly at: Date;
  readonly ok: boolean;
  readonly errors: readonly Diagnostic[];
}
