// `register` against a real HTTP server on loopback: what is sent, what is stored and with
// which file modes, and the one-line errors a person sees.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadCredential } from "../config";
import { registerRunner } from "./register";

const RUNNER_ID = "5b1e7c2a-8f3d-4c1b-9a6e-2d4f8b0c1e3a";
const CREDENTIAL = "rc_" + "x".repeat(43);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(answer: (body: unknown, res: ServerResponse, req: IncomingMessage) => void) {
  const requests: Array<{ method?: string; url?: string; body: unknown }> = [];
  const http = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const body: unknown = JSON.parse(text);
      requests.push({ method: req.method, url: req.url, body });
      answer(body, res, req);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => http.close(() => resolve())));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, requests };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "transcend-register-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

describe("transcend-runner register", () => {
  it("posts the token and name, and stores the credential with mode 0600 in a 0700 directory", async () => {
    const { url, requests } = await server((_body, res) => json(res, 200, { runnerId: RUNNER_ID, credential: CREDENTIAL }));
    const config = path.join(await tempDir(), "nested", "transcend-runner");
    const result = await registerRunner({ server: url, token: "rt_one-time-token", name: " gpu-box ", config });
    expect(requests).toEqual([{ method: "POST", url: "/api/runners/register", body: { token: "rt_one-time-token", name: "gpu-box" } }]);
    expect(result).toEqual({ runnerId: RUNNER_ID, name: "gpu-box", file: path.join(config, "credentials.json") });
    expect((await stat(result.file)).mode & 0o777).toBe(0o600);
    expect((await stat(config)).mode & 0o777).toBe(0o700);
    expect(await loadCredential(config)).toEqual({ server: url, runnerId: RUNNER_ID, name: "gpu-box", credential: CREDENTIAL });
    expect(JSON.parse(await readFile(result.file, "utf8"))).toMatchObject({ credential: CREDENTIAL });
  });

  it("says what to do when the token is refused (401) or used up (410), in the server's words when it sent some", async () => {
    const refused = await server((_body, res) => json(res, 401, { error: "Unknown registration token; create a new one on the runners page." }));
    const config = await tempDir();
    await expect(registerRunner({ server: refused.url, token: "bad", name: "n", config })).rejects.toThrow(
      "the server refused the registration token: Unknown registration token; create a new one on the runners page.",
    );
    const gone = await server((_body, res) => json(res, 410, {}));
    await expect(registerRunner({ server: gone.url, token: "old", name: "n", config })).rejects.toMatchObject({
      name: "UserError",
      message: "the registration token cannot be used again: it expired or was already used; create a new one on the runners page",
    });
    expect(await loadCredential(config)).toBeUndefined();
  });

  it("names an unreachable server in one line", async () => {
    const { url } = await server(() => {});
    await cleanups.pop()?.(); // nothing listens there any more
    await expect(registerRunner({ server: url, token: "t", name: "n", config: await tempDir() })).rejects.toThrow(
      `cannot reach ${url} to register (connection refused: is the server running?)`,
    );
  });
});
