import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The generated client: in a Pants sandbox it sits beside this package (src/typescript/generated);
// outside Pants, `pants export-codegen` writes it under dist/codegen/.
const generated = ["../generated", "../../../dist/codegen/src/typescript/generated"]
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((path) => existsSync(path));

export default defineConfig({
  resolve: generated ? { alias: { "@generated": generated } } : {},
  // React's automatic JSX runtime through Vite's own esbuild: no React plugin needed.
  esbuild: { jsx: "automatic" },
  // dist/<package>: the path the built files keep in a docker_image context.
  build: { outDir: "dist/console", sourcemap: false, assetsInlineLimit: 0 },
  // `npm run dev`: the backend of `pants run src/python/backend:pex`, as Caddy serves it.
  server: {
    proxy: {
      "/backend": {
        target: "http://127.0.0.1:8000",
        rewrite: (path) => path.replace(/^\/backend/, ""),
      },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "e2e/**/*.test.ts"],
  },
});
