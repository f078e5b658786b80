import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** Builds the web console into dist/console, which `inlet serve` serves at /console. */
// Vite reads its config from a default export; this file is the one exception to named exports.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // Relative asset URLs, so the console also works behind a proxy that mounts Inlet under a prefix.
  base: "./",
  publicDir: false,
  logLevel: "warn",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // The polyfill would be an inline script, which the console's Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
  },
});
