// The real backend for the browser test: the backend pex Pants built, on its embedded defaults
// (its own PostgreSQL and Redis under a private cache directory), on a free port.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export interface RunningBackend {
  url: string;
  stop: () => Promise<void>;
  output: () => string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

export async function startBackend(
  pex: string,
  stateDir: string,
  timeoutMs = 180_000,
): Promise<RunningBackend> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BACKEND_HOST: "127.0.0.1",
    BACKEND_PORT: String(port),
    XDG_CACHE_HOME: join(stateDir, "cache"),
  };
  // Embedded defaults: no configured servers, whatever the machine's environment says.
  delete env["DATABASE_URL"];
  delete env["REDIS_URL"];
  const child = spawn("python3", [pex], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopProcess(child);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the backend exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return { url, stop, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`the backend did not become healthy within ${timeoutMs} ms:\n${output}`);
}

// SIGTERM to the backend's process group (the pex, uvicorn and its embedded servers), then SIGKILL.
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(-child.pid, "SIGTERM");
  const killed = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 20_000)),
  ]);
  if (!killed) {
    process.kill(-child.pid, "SIGKILL");
    await exited;
  }
}
