import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { PORT } from "../src/defaults.js";

/** Builds the web console into dist/console, which `inlet serve` serves at /console. */
// Vite reads its config from a default export; this file is the one exception to named exports.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // Relative asset URLs, so the console also works behind a proxy that mounts Inlet under a prefix.
  base: "./",
  publicDir: false,
  logLevel: "warn",
  // `npx vite --config console/vite.config.ts` serves the console with live reload against a running `inlet serve`.
  server: { proxy: { "/v1": process.env["INLET_URL"] ?? `http://localhost:${PORT}` } },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // The polyfill would be an inline script, which the console's Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
  },
});
