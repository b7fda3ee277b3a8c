import { describeEachDatabase } from "@transcend/db/testing";
import { CLOSE_CODES, PROTOCOL_VERSION, RUNNER_SOCKET_PATH, type HelloMessage } from "@transcend/protocol";
import { presets } from "@transcend/tasks";
import { afterAll, beforeAll, expect, it } from "vitest";
import { closed, eventually, nextFrame, openSocket } from "../test/sockets";
import { startTranscendServer, type TranscendServer } from "./app-server";
import { getServerContext } from "./context";
import { createCaller } from "./routers/_app";
import { createRunner, createUser } from "./test-fleet";
import { anonymousContext } from "./trpc";
import { readServerVersion } from "./version";

const hello: HelloMessage = {
  type: "hello",
  protocolVersion: PROTOCOL_VERSION,
  runnerVersion: "0.0.0-test",
  name: "test runner",
  capabilities: { backend: "wasm", device: "test CPU", cores: 2, memoryBytes: 2 ** 30 },
};

describeEachDatabase("Transcend server", (getDb, { kind, getDatabase }) => {
  let server: TranscendServer;
  let socketUrl: string;
  /** A registered runner's credential: the gateway authenticates every upgrade. */
  let auth: Record<string, string>;

  beforeAll(async () => {
    server = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), log: () => {} });
    socketUrl = `ws://127.0.0.1:${server.port}${RUNNER_SOCKET_PATH}`;
    const { credential } = await createRunner(getDb(), await createUser(getDb(), "server-test"));
    auth = { authorization: `Bearer ${credential}` };
  });
  afterAll(async () => {
    await server.close();
  });

  async function health(): Promise<unknown> {
    const response = await fetch(`${server.url}/api/health`);
    expect(response.headers.get("content-type")).toContain("application/json");
    return response.json();
  }

  it("answers /api/health with its version and the database it serves", async () => {
    const response = await fetch(`${server.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, version: readServerVersion(), database: kind, runnersConnected: 0 });
  });

  it("counts a runner once its hello is welcomed, and forgets it when it disconnects", async () => {
    const socket = await openSocket(socketUrl, auth);
    // An open socket without a hello is not a runner yet.
    expect(await health()).toMatchObject({ runnersConnected: 0 });
    const welcome = nextFrame(socket);
    socket.send(JSON.stringify(hello));
    expect(await welcome).toMatchObject({ type: "welcome", protocolVersion: PROTOCOL_VERSION, serverVersion: readServerVersion() });
    expect(await health()).toMatchObject({ ok: true, runnersConnected: 1 });
    expect(server.context.gateway.listRunners()).toMatchObject([{ name: "test runner", capabilities: hello.capabilities }]);
    socket.close();
    await eventually(async () => expect(await health()).toMatchObject({ runnersConnected: 0 }));
  });

  it("refuses a runner that speaks another protocol version with a message for a person, and code 4000", async () => {
    const socket = await openSocket(socketUrl, auth);
    const frame = nextFrame(socket);
    const close = closed(socket);
    // A runner from another era may also send fields this server does not know.
    socket.send(JSON.stringify({ type: "hello", protocolVersion: PROTOCOL_VERSION + 1, somethingNew: true }));
    expect(await frame).toEqual({
      type: "error",
      reason: "protocol_mismatch",
      message: expect.stringContaining(`This server speaks runner protocol ${PROTOCOL_VERSION} but the runner speaks ${PROTOCOL_VERSION + 1}`),
    });
    expect(await close).toEqual({ code: CLOSE_CODES.protocolMismatch, reason: "protocol_mismatch" });
    expect(await health()).toMatchObject({ runnersConnected: 0 });
  });

  it("closes the socket with 1008 and a named reason on an invalid frame", async () => {
    for (const bad of ["not json", JSON.stringify({ type: "hello", protocolVersion: PROTOCOL_VERSION }), JSON.stringify({ type: "bogus" })]) {
      const socket = await openSocket(socketUrl, auth);
      const frame = nextFrame(socket);
      const close = closed(socket);
      socket.send(bad);
      expect(await frame).toMatchObject({ type: "error", reason: "invalid_frame" });
      expect(await close).toEqual({ code: CLOSE_CODES.invalidFrame, reason: "invalid_frame" });
    }
  });

  it("refuses a second hello on one connection", async () => {
    const socket = await openSocket(socketUrl, auth);
    const welcome = nextFrame(socket);
    socket.send(JSON.stringify(hello));
    await welcome;
    const close = closed(socket);
    socket.send(JSON.stringify(hello));
    expect(await close).toMatchObject({ code: CLOSE_CODES.invalidFrame });
  });

  it("answers pages with 503 until Next is ready, then hands them to Next", async () => {
    const before = await fetch(`${server.url}/leaderboard`);
    expect(before.status).toBe(503);
    server.setPageHandlers({
      handleRequest: async (_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" }).end("from next");
      },
    });
    const after = await fetch(`${server.url}/leaderboard`);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe("from next");
    // Health stays with the custom server, whatever Next does.
    expect(await health()).toMatchObject({ ok: true });
  });

  it("hands upgrades other than /api/runner (Next's hot reload) to Next", async () => {
    const upgrades: string[] = [];
    server.setPageHandlers({
      handleRequest: async (_request, response) => void response.end(),
      handleUpgrade: async (request, socket) => {
        upgrades.push(request.url ?? "");
        socket.destroy();
      },
    });
    await openSocket(`ws://127.0.0.1:${server.port}/_next/hmr?id=1`).catch(() => undefined);
    expect(upgrades).toEqual(["/_next/hmr?id=1"]);
  });

  it("shares its database with route handlers through the server context", () => {
    expect(getServerContext().db).toBe(getDb());
    expect(getServerContext().databaseKind).toBe(kind);
  });

  it("seeds the preset task variants, which the leaderboard procedure lists without graded runs", async () => {
    const variants = await createCaller(anonymousContext(getDb())).leaderboard.variants();
    expect(variants).toHaveLength(presets.length);
    expect(variants.map((variant) => variant.slug).sort()).toEqual(presets.map((preset) => preset.slug).sort());
    expect(variants.every((variant) => variant.gradedRuns === 0 && variant.version === 1)).toBe(true);
  });

  it("seeds idempotently: a second server on the same database adds no versions", async () => {
    const second = await startTranscendServer({ port: 0, host: "127.0.0.1", database: getDatabase(), log: () => {} });
    await second.close();
    const variants = await createCaller(anonymousContext(getDb())).leaderboard.variants();
    expect(variants).toHaveLength(presets.length);
    expect(variants.every((variant) => variant.version === 1)).toBe(true);
  });
});
