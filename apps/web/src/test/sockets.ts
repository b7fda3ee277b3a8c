// Small helpers for tests that talk to the gateway over a real socket.
import { WebSocket } from "ws";

/** `headers`: e.g. the runner credential, `{ authorization: "Bearer …" }`, checked at the upgrade. */
export function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** The next text frame, parsed as JSON. */
export function nextFrame(socket: WebSocket): Promise<unknown> {
  return new Promise((resolve, reject) => {
    socket.once("message", (data: Buffer) => resolve(JSON.parse(data.toString("utf8"))));
    socket.once("close", () => reject(new Error("socket closed before a frame arrived")));
  });
}

export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve({ code: 1006, reason: "" });
    socket.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString("utf8") }));
  });
}

/** Polls until `check` stops throwing or the time is up (the last failure is rethrown). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
