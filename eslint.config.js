import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "data/", "src/console/assets/", ".bench-builds/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-empty": ["error", { allowEmptyCatch: false }],
    },
  },
  {
    // The paths that run per request or per run. On Node 20, V8 gives each object built as a
    // spread with more keys after it, or frozen as a spread copy, a hidden class of its own, in the
    // old generation: it costs ~20 times a literal and kept every run's objects alive through young
    // collections (README § Performance). Build such objects key by key or with Object.assign.
    files: [
      "src/engine/**",
      "src/http/**",
      "src/ingest/**",
      "src/dedup/**",
      "src/nodes/**",
      "src/store/**",
      "src/templates/**",
      "src/auth/**",
    ],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "ObjectExpression > SpreadElement + Property",
          message:
            "A spread with more keys after it gets a hidden class per object on Node 20: list the keys or use Object.assign.",
        },
        {
          selector:
            "CallExpression[callee.object.name='Object'][callee.property.name='freeze'] > ObjectExpression > SpreadElement",
          message:
            "A frozen spread copy gets a hidden class per object on Node 20: copy with Object.fromEntries(Object.entries(…)).",
        },
      ],
    },
  },
);
