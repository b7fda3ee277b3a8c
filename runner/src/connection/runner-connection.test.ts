// The connection state machine against a real WebSocket server on loopback, speaking
// the protocol package's frames (the full gateway is tested with this client in apps/web).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CLOSE_CODES,
  PROTOCOL_VERSION,
  RUNNER_SOCKET_PATH,
  decodeRunnerMessage,
  encodeServerMessage,
  type RunnerToServer,
} from "@transcend/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { ConnectionRefusedError, RunnerConnection, type ConnectionStateName } from "./runner-connection";

type Behaviour = (socket: WebSocket, hello: RunnerToServer) => void;

const welcome: Behaviour = (socket) =>
  socket.send(encodeServerMessage({ type: "welcome", protocolVersion: PROTOCOL_VERSION, serverVersion: "test", connectionId: "c1" }));

/** A loopback gateway stand-in; `port` lets a restarted one take the same address. */
async function startGateway(behaviour: Behaviour, port = 0, requiredCredential?: string) {
  const http: Server = createServer();
  const authorizations: Array<string | undefined> = [];
  const wss = new WebSocketServer({
    server: http,
    path: RUNNER_SOCKET_PATH,
    // Like the real gateway: the credential is checked at the upgrade, 401 before any socket.
    verifyClient: (info, done) => {
      authorizations.push(info.req.headers.authorization);
      if (requiredCredential === undefined || info.req.headers.authorization === `Bearer ${requiredCredential}`) done(true);
      else done(false, 401, "Unauthorized");
    },
  });
  const hellos: RunnerToServer[] = [];
  const closes: number[] = [];
  wss.on("connection", (socket) => {
    socket.on("close", (code) => closes.push(code));
    socket.once("message", (data: Buffer) => {
      const decoded = decodeRunnerMessage(data.toString("utf8"));
      if (!decoded.ok) throw new Error(decoded.error);
      hellos.push(decoded.message);
      behaviour(socket, decoded.message);
    });
  });
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  const actualPort = (http.address() as AddressInfo).port;
  return {
    port: actualPort,
    url: new URL(`ws://127.0.0.1:${actualPort}${RUNNER_SOCKET_PATH}`),
    hellos,
    closes,
    authorizations,
    sockets: () => [...wss.clients],
    async stop() {
      for (const client of wss.clients) client.close(CLOSE_CODES.goingAway, "server shutting down");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const hello = {
  runnerVersion: "0.0.0-test",
  capabilities: { backend: "cpu" as const, device: "test CPU", cores: 1, memoryBytes: 1024 },
};

function waitForState(connection: RunnerConnection, name: ConnectionStateName, timeoutMs = 5_000): Promise<void> {
  if (connection.state.name === name) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still ${connection.state.name}, never ${name}`)), timeoutMs);
    const off = connection.onStateChange((state) => {
      if (state.name !== name) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("RunnerConnection", () => {
  it("says hello, is connected on welcome, and on stop() closes with 1000 and resolves", async () => {
    const gateway = await startGateway(welcome);
    cleanups.push(() => gateway.stop());
    const states: ConnectionStateName[] = [];
    const connection = new RunnerConnection({ url: gateway.url, hello });
    connection.onStateChange((state) => states.push(state.name));
    const running = connection.run();
    await waitForState(connection, "connected");
    expect(gateway.hellos).toEqual([{ type: "hello", protocolVersion: PROTOCOL_VERSION, ...hello, activeAttempts: [] }]);
    connection.stop();
    await running;
    expect(states).toEqual(["connecting", "connected", "draining", "stopped"]);
    await expect.poll(() => gateway.closes).toEqual([CLOSE_CODES.normal]);
  });

  it("reconnects after the server goes away and comes back on the same port", async () => {
    const first = await startGateway(welcome);
    const lines: string[] = [];
    const connection = new RunnerConnection({ url: first.url, hello, log: (line) => lines.push(line), delayMs: () => 50 });
    cleanups.push(() => connection.stop());
    const running = connection.run();
    await waitForState(connection, "connected");

    await first.stop();
    await waitForState(connection, "connecting");
    // While the server is down, each attempt prints one line, not a stack.
    await expect.poll(() => lines.filter((line) => line.startsWith("cannot reach")).length).toBeGreaterThanOrEqual(2);
    for (const line of lines.filter((l) => l.startsWith("cannot reach"))) {
      expect(line).toMatch(/^cannot reach ws:\/\/127\.0\.0\.1:\d+\/api\/runner \(connection refused: is the server running\?\); retrying in \d+\.\d s$/);
    }

    const second = await startGateway(welcome, first.port);
    cleanups.push(() => second.stop());
    await waitForState(connection, "connected");
    expect(second.hellos).toHaveLength(1);
    expect(lines.some((line) => line.includes("the server is restarting or stopping"))).toBe(true);
    connection.stop();
    await running;
  });

  it("treats a refusal (4000-range close) as fatal: run() rejects with the server's message", async () => {
    const gateway = await startGateway((socket) => {
      socket.send(encodeServerMessage({ type: "error", reason: "protocol_mismatch", message: "Update the runner." }));
      socket.close(CLOSE_CODES.protocolMismatch, "protocol_mismatch");
    });
    cleanups.push(() => gateway.stop());
    const connection = new RunnerConnection({ url: gateway.url, hello, protocolVersion: PROTOCOL_VERSION + 7, delayMs: () => 10 });
    const outcome = connection.run();
    await expect(outcome).rejects.toThrow(ConnectionRefusedError);
    await expect(outcome).rejects.toMatchObject({ reason: "protocol_mismatch", message: "Update the runner." });
    expect(gateway.hellos).toEqual([expect.objectContaining({ protocolVersion: PROTOCOL_VERSION + 7 })]);
    expect(connection.state.name).toBe("stopped");
  });

  it("sends the credential at the upgrade as a Bearer token", async () => {
    const gateway = await startGateway(welcome, 0, "c".repeat(43));
    cleanups.push(() => gateway.stop());
    const connection = new RunnerConnection({ url: gateway.url, hello, credential: "c".repeat(43) });
    const running = connection.run();
    await waitForState(connection, "connected");
    expect(gateway.authorizations).toEqual([`Bearer ${"c".repeat(43)}`]);
    connection.stop();
    await running;
  });

  it("treats 401 at the upgrade as fatal: the credential was refused, register again", async () => {
    const gateway = await startGateway(welcome, 0, "right-credential-0123456789");
    cleanups.push(() => gateway.stop());
    const connection = new RunnerConnection({ url: gateway.url, hello, credential: "wrong-credential-0123456789", delayMs: () => 10 });
    const outcome = connection.run();
    await expect(outcome).rejects.toMatchObject({
      name: "ConnectionRefusedError",
      reason: "unauthorized",
      message: "this runner's credential was refused: register it again (transcend-runner register)",
    });
    // One attempt only: retrying a refused credential cannot help.
    expect(gateway.authorizations).toHaveLength(1);
    expect(gateway.hellos).toHaveLength(0);
  });

  it("stays connecting while the server has not welcomed it; stop() then ends at once", async () => {
    const gateway = await startGateway(() => {});
    cleanups.push(() => gateway.stop());
    const connection = new RunnerConnection({ url: gateway.url, hello, delayMs: () => 60_000 });
    const running = connection.run();
    await expect.poll(() => gateway.hellos.length).toBe(1);
    // Silence from the server: the runner stays connecting (not connected) until the welcome timeout.
    expect(connection.state.name).toBe("connecting");
    connection.stop();
    await running;
    expect(connection.state.name).toBe("stopped");
  });

  it("stop() interrupts a backoff wait instead of sleeping it out", async () => {
    const gateway = await startGateway(welcome);
    const url = gateway.url;
    await gateway.stop(); // nothing listens there now
    const lines: string[] = [];
    const connection = new RunnerConnection({ url, hello, log: (line) => lines.push(line), delayMs: () => 60_000 });
    const running = connection.run();
    await expect.poll(() => lines.length).toBe(1);
    const stoppedAt = Date.now();
    connection.stop();
    await running;
    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    expect(lines[0]).toMatch(/^cannot reach .*retrying in 60\.0 s$/);
  });
});
