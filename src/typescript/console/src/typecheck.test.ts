// Strict `tsc --noEmit` over the console and the generated client it uses, as a test: Pants runs
// it with the other tests, and a type error fails it with the compiler's own messages.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("type-checks under strict tsc", () => {
  const packageDir = fileURLToPath(new URL("..", import.meta.url));
  const tsc = spawnSync(
    process.execPath,
    ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "."],
    {
      cwd: packageDir,
      encoding: "utf8",
    },
  );
  expect(tsc.stdout + tsc.stderr).toBe("");
  expect(tsc.status).toBe(0);
}, 120_000);
