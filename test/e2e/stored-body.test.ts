import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/start-server.js";
import { startSink, type Sink } from "../helpers/sink.js";
import type { TempProject } from "../helpers/temp-project.js";
import { forwardProject, INCOMING_PATH } from "./support.js";

/** The event row as the SQLite store wrote it, read from a second connection. */
function storedJson(file: string, eventId: string): string | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[string], string>("SELECT json FROM events WHERE event_id = ?").pluck().get(eventId);
  } finally {
    db.close();
  }
}

describe("the stored event's body", () => {
  let sink: Sink;
  let project: TempProject;
  let server: TestServer;
  let file: string;

  beforeAll(async () => {
    sink = await startSink();
    project = await forwardProject(sink, { attempts: 1, timeout: "5s" });
    file = path.join(project.dir, "inlet.db");
    server = await startServer({ INLET_DIR: project.dir, INLET_STORE: `sqlite:${file}` });
  });
  afterAll(async () => {
    await server.shutdown();
    await sink.close();
    project.cleanup();
  });

  async function post(text: string): Promise<string> {
    const response = await fetch(`${server.url}${INCOMING_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { eventId: string }).eventId;
  }

  it("is the sender's own JSON text, which the run reads as the value it parses to", async () => {
    const text = '{ "id" : "a-1",\n  "items": [1, 2.50], "id": "a-2" }';
    const eventId = await post(text);
    expect(storedJson(file, eventId)).toContain(`"body":${text}}`);
    await expect.poll(() => sink.calls.length).toBe(1);
    expect(JSON.parse(sink.calls[0]!.body)).toMatchObject({ eventId, id: "a-2" });
  });

  it("is written again as JSON when a number would read back otherwise", async () => {
    const eventId = await post('{"id": "b-1", "big": 1e400, "zero": -0}');
    const stored = JSON.parse(storedJson(file, eventId) ?? "null") as { body: unknown };
    expect(stored.body).toStrictEqual({ id: "b-1", big: null, zero: 0 });
  });
});
