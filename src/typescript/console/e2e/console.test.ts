// The console in real Chromium against the real backend: sign in with a minted token, create,
// list, page, toggle admin, delete, and the errors a user sees (a refused token, a conflict, bad
// input, the backend gone). The built files
// are served the way Caddy serves them: static files, the API under /backend/, a strict CSP.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { build, preview, type PreviewServer } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, startBackend, type RunningBackend } from "./backend";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
// Where `packaged_files` puts the backend pex: its dist/ path from the sandbox root.
const BACKEND_PEX = fileURLToPath(
  new URL("../../../../src.python.backend/pex.pex", import.meta.url),
);
const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
// The repo's installer of Debian's Chromium (a no-op when it is there): the test sets itself up.
const ENSURE_CHROMIUM = fileURLToPath(
  new URL("../../../../build-support/bin/ensure-chromium", import.meta.url),
);
// The policy infra/caddy/Caddyfile sends, read from it: no inline script or style may run.
const CADDYFILE = fileURLToPath(new URL("../../../../infra/caddy/Caddyfile", import.meta.url));
const SENT_CSP = /Content-Security-Policy "([^"]+)"/.exec(readFileSync(CADDYFILE, "utf8"))?.[1];
if (SENT_CSP === undefined) throw new Error(`${CADDYFILE} sends no Content-Security-Policy`);
const CSP: string = SENT_CSP;
const ARTIFACTS = process.env["SPECFIRST_TEST_ARTIFACTS"]
  ? join(process.env["SPECFIRST_TEST_ARTIFACTS"], "console-browser")
  : mkdtempSync(join(tmpdir(), "console-screens-"));

// Each step drives a real browser and server; the first one also loads the page cold.
const STEP_TIMEOUT = 60_000;

const state = mkdtempSync(join(tmpdir(), "console-e2e-"));
let backend: RunningBackend;
let site: PreviewServer;
let context: BrowserContext;
let page: Page;
let adminToken: string;
const problems: string[] = [];

// A token made the documented way: the mint command, here from the backend pex, with the
// development key the backend uses (under the same XDG_CACHE_HOME).
function mint(...args: string[]): string {
  return execFileSync("python3", [BACKEND_PEX, ...args], {
    env: {
      ...process.env,
      PEX_MODULE: "servicekit.auth.mint",
      XDG_CACHE_HOME: join(state, "cache"),
    },
    encoding: "utf8",
  }).trim();
}

function asAdmin(init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...init.headers, Authorization: `Bearer ${adminToken}` } };
}

beforeAll(async () => {
  execFileSync("bash", [ENSURE_CHROMIUM], { stdio: "inherit" });
  mkdirSync(ARTIFACTS, { recursive: true });
  backend = await startBackend(BACKEND_PEX, state);
  adminToken = mint("admin", "--audience", "backend");
  const outDir = join(state, "dist");
  await build({ root: PACKAGE_DIR, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  site = await preview({
    root: PACKAGE_DIR,
    logLevel: "warn",
    build: { outDir },
    preview: {
      host: "127.0.0.1",
      port: await freePort(),
      strictPort: true,
      headers: { "Content-Security-Policy": CSP },
      proxy: {
        "/backend": {
          target: backend.url,
          rewrite: (path: string) => path.replace(/^\/backend/, ""),
        },
      },
    },
  });
  context = await chromium.launchPersistentContext(join(state, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().includes("Failed to load resource"))
      problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
}, 300_000);

afterAll(async () => {
  await context?.close();
  await site?.close();
  await backend?.stop();
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

function row(telegramId: number) {
  return page.locator(`tr[data-telegram-id="${telegramId}"]`);
}

async function createInForm(telegramId: string): Promise<void> {
  await page.getByLabel("Telegram id").fill(telegramId);
  await page.getByRole("button", { name: "Create" }).click();
}

it("serves the built console without inline scripts", () => {
  const html = readFileSync(join(state, "dist", "index.html"), "utf8");
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toMatch(/\bsrc="/);
});

async function signIn(token: string): Promise<void> {
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

it(
  "asks for a token, refuses a bad one and signs in with a minted one",
  async () => {
    await page.goto(site.resolvedUrls!.local[0]!);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const anonymous = await fetch(`${backend.url}/users`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);

    await signIn("not a token");
    await page.getByText("That is not an access token").waitFor();

    await signIn(mint("admin", "--audience", "elsewhere"));
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The backend refused the token: .*Sign in again\.$/);
    await shot("0-refused");

    await signIn(adminToken);
    await expect.poll(() => page.getByText("No users yet.").isVisible()).toBe(true);
  },
  STEP_TIMEOUT,
);

it(
  "creates a user, lists it, makes it admin and deletes it",
  async () => {
    const telegramId = 700_000 + (process.pid % 100_000);
    await page.goto(site.resolvedUrls!.local[0]!); // the token lasts as long as the tab
    await expect.poll(() => page.getByText("No users yet.").isVisible()).toBe(true);

    await createInForm(String(telegramId));
    await row(telegramId).waitFor();
    expect(await row(telegramId).locator("td").nth(2).textContent()).toBe("no");
    await shot("1-created");

    await row(telegramId).getByRole("button", { name: "Make admin" }).click();
    await expect.poll(() => row(telegramId).locator("td").nth(2).textContent()).toBe("yes");
    const listed = (await (await fetch(`${backend.url}/users`, asAdmin())).json()) as {
      telegram_id: number;
      is_admin: boolean;
    }[];
    expect(listed.find((user) => user.telegram_id === telegramId)?.is_admin).toBe(true);
    await shot("2-admin");

    await createInForm(String(telegramId));
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Conflict \(409\): /);
    await shot("3-conflict");

    await row(telegramId).getByRole("button", { name: "Delete" }).click();
    await row(telegramId).waitFor({ state: "detached" });
    expect(await page.getByRole("alert").count()).toBe(0);
    const left = (await (await fetch(`${backend.url}/users`, asAdmin())).json()) as unknown[];
    expect(left.length).toBe(0);
    await shot("4-deleted");
  },
  STEP_TIMEOUT,
);

it(
  "refuses a bad Telegram id in the form without calling the backend",
  async () => {
    let requests = 0;
    page.on("request", (request) => {
      if (request.url().includes("/backend/")) requests += 1;
    });
    await createInForm("-3");
    await page.getByText("A Telegram id is a whole number, 0 or more.").waitFor();
    expect(requests).toBe(0);
  },
  STEP_TIMEOUT,
);

it(
  "pages through users ten at a time",
  async () => {
    for (let index = 0; index < 11; index += 1) {
      const created = await fetch(
        `${backend.url}/users`,
        asAdmin({
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ telegram_id: 900_000 + index }),
        }),
      );
      expect(created.status).toBe(201);
    }
    await page.reload();
    await row(900_000).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(10);
    await page.getByRole("button", { name: "Next" }).click();
    await row(900_010).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await shot("5-second-page");

    // Deleting the only user of the last page goes back to the page before.
    await row(900_010).getByRole("button", { name: "Delete" }).click();
    await row(900_009).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(10);
  },
  STEP_TIMEOUT,
);

it(
  "signs out, and the token is gone from the tab",
  async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signIn(adminToken);
    await row(900_000).waitFor();
  },
  STEP_TIMEOUT,
);

it(
  "says so clearly when the backend is gone",
  async () => {
    await backend.stop();
    await page.getByRole("button", { name: "Make admin" }).first().click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The backend (did not answer|answered 5\d\d)/);
    await shot("6-backend-down");
    expect(problems).toEqual([]);
  },
  STEP_TIMEOUT,
);
