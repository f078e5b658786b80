import { existsSync } from "node:fs";
import { Command } from "commander";
import { mintToken, resolveJwtKey } from "../auth/jwt.js";
import { compileApiKey } from "../auth/api-keys.js";
import { createConfigLoader } from "../config/load.js";
import { formatText } from "../config/format/text.js";
import { ConfigError, InletError } from "../errors.js";
import { builtinRegistry } from "../nodes/registry.js";
import { readSettings } from "../settings.js";
import { configDir } from "./config-dir.js";

export function tokenCommand(): Command {
  return new Command("token")
    .description("mint a JWT for an ApiKey locally (INLET_JWT_SECRET, or the secret kept in INLET_STORE)")
    .argument("<apiKey-id>")
    .option("--dir <dir>", "config folder (default: INLET_DIR or .)")
    .action(async (apiKeyId: string, options: { dir?: string }) => {
      const loaded = await createConfigLoader(builtinRegistry).load(configDir(options.dir, "--dir"));
      if (!loaded.ok) {
        process.stderr.write(`${formatText(loaded.diagnostics)}\n`);
        throw new ConfigError(loaded.diagnostics);
      }
      const doc = loaded.config.set.apiKeys.find((item) => item.doc.id === apiKeyId)?.doc;
      if (!doc) throw new InletError("unknown-api-key", `no ApiKey with id "${apiKeyId}" in the config`);
      const apiKey = compileApiKey(doc, process.env);
      const settings = readSettings(process.env);
      const secret = settings.jwtSecret ?? (await storedSecret(settings.storeUrl, settings.redisPrefix));
      const { token } = await mintToken({ key: resolveJwtKey(secret), apiKeyId, ttlMs: apiKey.tokenTtlMs });
      process.stdout.write(`${token}\n`);
    });
}

async function storedSecret(storeUrl: string, redisPrefix: string): Promise<string> {
  // Loaded only when needed, as `serve` loads the runtime: the stores' clients are slow to load.
  const { openStore, parseStoreUrl } = await import("../store/open-store.js");
  const noSecret = (): never => {
    throw new InletError(
      "no-jwt-secret",
      `no INLET_JWT_SECRET and no generated secret in ${storeUrl}: set INLET_JWT_SECRET or start the server once`,
    );
  };
  const location = parseStoreUrl(storeUrl);
  // Opening a sqlite file that is not there would create a database just to find it empty.
  if (location.kind === "sqlite" && !existsSync(location.file)) noSecret();
  const store = await openStore(storeUrl, { redisPrefix });
  try {
    return await store.getOrCreateSecret("jwt-signing-secret", noSecret);
  } finally {
    await store.close();
  }
}
