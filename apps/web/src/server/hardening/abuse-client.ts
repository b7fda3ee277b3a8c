// A WebSocket client that misbehaves below the level `ws` lets one: raw TCP, hand-written
// upgrade requests and hand-crafted frames (fragments, continuation floods), for the
// gateway abuse tests and the fault scripts. Loopback only.
import { randomBytes } from "node:crypto";
import net from "node:net";
import { RUNNER_SOCKET_PATH } from "@transcend/protocol";

export interface RawAnswer {
  /** The status line's code, or 0 when the server closed without answering. */
  status: number;
  head: string;
}

/** Sends `request` bytes as they are and reads the answer's head (or the close). */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve({ status: match ? Number(match[1]) : 0, head: received.split("\r\n\r\n", 1)[0] ?? "" });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.includes("\r\n\r\n")) done();
    });
    socket.on("close", done);
    socket.on("error", () => undefined);
    socket.write(request);
  });
}

export function upgradeRequest(headers: Record<string, string> = {}, extraLines: string[] = []): string {
  const lines = [
    `GET ${RUNNER_SOCKET_PATH} HTTP/1.1`,
    "Host: 127.0.0.1",
    "Connection: Upgrade",
    "Upgrade: websocket",
    "Sec-WebSocket-Version: 13",
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ...extraLines,
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Opens a runner socket by hand; resolves with the raw TCP socket once the server said 101. */
export function rawUpgrade(port: number, credential: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      if (head.startsWith("HTTP/1.1 101")) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.split("\r\n", 1)[0] ?? ""}`));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(upgradeRequest({ Authorization: `Bearer ${credential}` }));
  });
}

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9 } as const;

/** One client frame (clients must mask), with FIN and opcode as given. */
export function clientFrame(opcode: number, payload: Buffer, fin: boolean): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header: number[] = [(fin ? 0x80 : 0) | opcode];
  if (length < 126) header.push(0x80 | length);
  else if (length < 65536) header.push(0x80 | 126, length >> 8, length & 0xff);
  else {
    header.push(0x80 | 127, 0, 0, 0, 0);
    header.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return Buffer.concat([Buffer.from(header), mask, masked]);
}

/** Resolves when the socket closes (or after `timeoutMs`, with false). */
export function closed(socket: net.Socket, timeoutMs = 15_000): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
