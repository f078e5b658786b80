import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteCheckpointer } from "../../src/store/sqlite-checkpointer.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inlet-checkpointer-"));
const open: Database.Database[] = [];

function database(name: string): Database.Database {
  const db = new Database(path.join(dir, name));
  db.pragma("journal_mode = WAL");
  open.push(db);
  return db;
}

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

const autocheckpoint = (db: Database.Database): number =>
  db.pragma("wal_autocheckpoint", { simple: true }) as number;

describe("the SQLite checkpoint thread", () => {
  it("takes checkpoints off the serving connection, and a clean stop does not hand them back (the store closes next)", async () => {
    const db = database("running.db");
    const checkpointer = new SqliteCheckpointer(db, { file: db.name });
    expect(autocheckpoint(db)).toBe(0);
    await checkpointer.stop();
    expect(autocheckpoint(db)).toBe(0);
  });

  it("hands checkpoints back to the connection and reports why when the thread fails", async () => {
    const db = database("failing.db");
    const reported = new Promise<Error>((resolve) => {
      // The thread cannot open its own connection: its first step throws.
      new SqliteCheckpointer(db, {
        file: path.join(dir, "missing-folder", "x.db"),
        onError: resolve,
      });
    });
    const error = await reported;
    expect(error).toMatchObject({ code: "sqlite-checkpoint" });
    expect(error.message).toContain("checkpoints run on commit again");
    expect(autocheckpoint(db)).toBe(1000);
  });
});
