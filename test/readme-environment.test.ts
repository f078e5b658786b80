import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readSettings, type Settings } from "../src/settings.js";

/** The README's environment table, as variable → default cell. */
function environmentTable(): Map<string, string> {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(
    readme.indexOf("## Environment"),
    readme.indexOf("\n## ", readme.indexOf("## Environment") + 1),
  );
  return new Map(
    [...section.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*([^|]+?)\s*\|/gm)].map((match) => [match[1]!, match[2]!]),
  );
}

const FIELDS: Readonly<Record<string, keyof Settings>> = {
  PORT: "port",
  INLET_DIR: "dir",
  INLET_STORE: "storeUrl",
  INLET_JWT_SECRET: "jwtSecret",
  INLET_ADMIN_TOKEN: "adminToken",
  INLET_PUBLIC_URL: "publicUrl",
  INLET_WATCH: "watch",
  INLET_OUTGOING_DENY_PRIVATE: "outgoingDenyPrivate",
  INLET_CONCURRENCY: "concurrency",
  INLET_REDIS_PREFIX: "redisPrefix",
  LOG_LEVEL: "logLevel",
};

describe("README § Environment", () => {
  const documented = environmentTable();
  const settings = readSettings({});

  it("lists every setting the server reads from the environment", () => {
    expect(Object.values(FIELDS).sort()).toEqual(Object.keys(settings).sort());
    expect([...documented.keys()].sort()).toEqual(Object.keys(FIELDS).sort());
  });

  it("gives each the default the server takes when it is unset", () => {
    for (const [name, field] of Object.entries(FIELDS)) {
      if (name === "INLET_PUBLIC_URL") continue;
      const value = settings[field];
      expect(documented.get(name), name).toBe(value === undefined ? "—" : `\`${String(value)}\``);
    }
  });

  it("says the public URL follows the port actually bound when unset", () => {
    expect(settings.publicUrl).toBeUndefined();
    expect(documented.get("INLET_PUBLIC_URL")).toBe("`http://localhost:$PORT`");
  });
});
