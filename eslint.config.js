// ESLint (flat config): `npm run lint`. Formatting is Prettier's job (`npm run format`); these rules are about correctness and shape.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Size limits from the architecture notes (docs/architecture.md): split a module or a function before it grows past them. */
const SIZE = {
  "max-lines": ["error", { max: 350, skipBlankLines: true, skipComments: true }],
  "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }],
};

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".cache/", "test/kubelet/", "test/fixtures/**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        Buffer: "readonly",
        console: "readonly",
        URL: "readonly",
        __dirname: "readonly",
        require: "readonly",
        module: "writable",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        performance: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        setImmediate: "readonly",
        NodeJS: "readonly",
        structuredClone: "readonly",
      },
    },
    rules: {
      // `any` is confined to SDK middleware and parsed JSON; every use is visible in review.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    // The product: output goes through the logger (stderr) or the injected writers, never console.
    files: ["src/**/*.ts"],
    rules: {
      ...SIZE,
      "no-console": "error",
      "no-restricted-properties": [
        "error",
        { object: "process", property: "stdout", message: "write through RunIo / the logger (src/cli/main.ts wires the streams)" },
        { object: "process", property: "stderr", message: "write through RunIo / the logger (src/cli/main.ts wires the streams)" },
      ],
    },
  },
  {
    // The one module that wires process streams, and the build-time warm-up programs.
    files: ["src/cli/main.ts", "src/bootstrap/warm-up.ts", "src/bootstrap/warm-up-start.ts"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // The loader runs inside the CommonJS start-up bundle and hands the lazy half Node's `require` (docs/architecture.md).
    files: ["src/bootstrap/**/*.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
