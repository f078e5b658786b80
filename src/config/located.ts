import type { ParsedDocument } from "./read.js";

/** A schema-valid document of kind T with where it was read from. */
export interface Located<T> {
  readonly doc: T;
  readonly source: ParsedDocument;
}
