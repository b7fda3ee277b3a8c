// A simulated runner for tests and the gateway benchmark: a real WebSocket speaking the
// real protocol (every frame encoded and decoded with @transcend/protocol), with no
// training behind it. It does what the protocol asks of a runner and nothing clever, so
// tests can also make it misbehave on purpose (`sendRaw`).
import { WebSocket } from "ws";
import {
  PROTOCOL_VERSION,
  RUNNER_SOCKET_PATH,
  decodeServerMessage,
  encodeRunnerMessage,
  type AttemptRef,
  type RunnerCapabilities,
  type RunnerToServer,
  type ServerToRunnerMessage,
} from "@transcend/protocol";

export type AssignFrame = Extract<ServerToRunnerMessage, { type: "assign" }>;
type FrameOf<T extends ServerToRunnerMessage["type"]> = Extract<ServerToRunnerMessage, { type: T }>;

export const simCapabilities: RunnerCapabilities = { backend: "wasm", device: "simulated CPU", cores: 2, memoryBytes: 2 ** 30 };

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

export class SimRunner {
  readonly frames: ServerToRunnerMessage[] = [];
  /** Frames the runner could not decode (must stay empty: the server validates on send). */
  readonly undecodable: string[] = [];
  private waiters: Array<{ test: (frame: ServerToRunnerMessage) => boolean; resolve: (frame: ServerToRunnerMessage) => void }> = [];
  private consumed = new Set<ServerToRunnerMessage>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      const decoded = decodeServerMessage(data.toString("utf8"));
      if (!decoded.ok) {
        this.undecodable.push(decoded.error);
        return;
      }
      this.frames.push(decoded.message);
      for (const waiter of [...this.waiters]) {
        if (!this.consumed.has(decoded.message) && waiter.test(decoded.message)) {
          this.consumed.add(decoded.message);
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(decoded.message);
        }
      }
    });
    this.closed = new Promise((resolve) => socket.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString("utf8") })));
  }

  /** Opens the socket with the credential; rejects with UpgradeRefused on an HTTP refusal. */
  static connect(serverUrl: string, credential: string | undefined): Promise<SimRunner> {
    const url = `${serverUrl.replace(/^http/, "ws")}${RUNNER_SOCKET_PATH}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers: credential ? { authorization: `Bearer ${credential}` } : {}, perMessageDeflate: false });
      socket.once("open", () => resolve(new SimRunner(socket)));
      socket.once("unexpected-response", (_request, response) => {
        reject(new UpgradeRefused(response.statusCode ?? 0));
        response.resume();
        socket.terminate();
      });
      socket.once("error", reject);
    });
  }

  /** Connects and completes the hello handshake. */
  static async start(
    serverUrl: string,
    credential: string,
    options: { name?: string; capabilities?: RunnerCapabilities; activeAttempts?: AttemptRef[] } = {},
  ): Promise<SimRunner> {
    const runner = await SimRunner.connect(serverUrl, credential);
    const welcome = runner.next("welcome");
    runner.send({
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      runnerVersion: "0.0.0-sim",
      name: options.name,
      capabilities: options.capabilities ?? simCapabilities,
      activeAttempts: options.activeAttempts ?? [],
    });
    await welcome;
    return runner;
  }

  send(message: RunnerToServer): void {
    this.socket.send(encodeRunnerMessage(message));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** The next not yet consumed frame of `type` (matching `test`), waiting up to `timeoutMs`. */
  next<T extends ServerToRunnerMessage["type"]>(type: T, test: (frame: FrameOf<T>) => boolean = () => true, timeoutMs = 30_000): Promise<FrameOf<T>> {
    const matches = (frame: ServerToRunnerMessage): frame is FrameOf<T> => frame.type === type && test(frame as FrameOf<T>);
    const already = this.frames.find((frame) => !this.consumed.has(frame) && matches(frame));
    if (already) {
      this.consumed.add(already);
      return Promise.resolve(already as FrameOf<T>);
    }
    return new Promise((resolve, reject) => {
      const waiter = { test: matches, resolve: (frame: ServerToRunnerMessage) => resolve(frame as FrameOf<T>) };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.filter((f) => f.type !== "ack").slice(-6)).slice(0, 3000)}`));
      }, timeoutMs);
      timer.unref();
      void this.closed.then(({ code, reason }) => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`socket closed (${code} ${reason}) before a ${type} frame`));
      });
    });
  }

  /** Sends a heartbeat for `attempts` every `intervalMs` until the returned function is called. */
  heartbeat(attempts: () => AttemptRef[], intervalMs: number): () => void {
    const timer = setInterval(() => {
      if (this.socket.readyState === WebSocket.OPEN) this.send({ type: "heartbeat", attempts: attempts() });
    }, intervalMs);
    return () => clearInterval(timer);
  }

  /**
   * Plays a whole attempt as an honest runner would: accepted, a few progress events, and
   * for each evaluated split of both models the evaluation set answered with (possibly
   * wrong) completions until graded, then finished.
   */
  async execute(assign: AssignFrame, options: { splits: string[]; progressEvents?: number; answer?: (prompt: string[]) => string[] }): Promise<void> {
    const ref = { runId: assign.runId, attempt: assign.attempt };
    this.send({ type: "accepted", ...ref });
    const phases = ["pretraining", "evaluating_base", "grpo", "evaluating_final"] as const;
    let seq = 0;
    for (const phase of phases) {
      for (let i = 0; i < (options.progressEvents ?? 1); i++) {
        seq += 1;
        this.send({ type: "progress", ...ref, seq, phase, step: i, metrics: { loss: 1 / seq } });
      }
      if (phase === "evaluating_base" || phase === "evaluating_final") {
        const model = phase === "evaluating_base" ? "base" : "grpo";
        for (const split of options.splits) await this.evaluate(ref, model, split, options.answer ?? (() => ["a"]));
      }
    }
    await this.next("ack", (ack) => ack.runId === ref.runId && ack.seq === seq);
    this.send({ type: "finished", ...ref, engineVersion: "sim", checkpoints: {}, selfReported: {} });
  }

  async evaluate(ref: AttemptRef, model: "base" | "grpo", split: string, answer: (prompt: string[]) => string[]): Promise<void> {
    this.send({ type: "evaluation-request", ...ref, model, split });
    const items: { id: string; prompt: string[] }[] = [];
    let samplesPerItem = 0;
    for (;;) {
      const chunk = await this.next("evaluation-set", (f) => f.runId === ref.runId && f.attempt === ref.attempt && f.model === model && f.split === split);
      items.push(...chunk.items);
      samplesPerItem = chunk.samplesPerItem;
      if (items.length >= chunk.total) break;
    }
    const entries = items.flatMap((item) => Array.from({ length: samplesPerItem + 1 }, (_, sample) => ({ itemId: item.id, sample, tokens: answer(item.prompt) })));
    for (let start = 0; start < entries.length; start += 500) {
      this.send({ type: "completions", ...ref, model, split, entries: entries.slice(start, start + 500) });
    }
    await this.next("graded", (f) => f.runId === ref.runId && f.attempt === ref.attempt && f.model === model && f.split === split).catch((error: unknown) => {
      const mine = this.frames.filter((f) => "runId" in f && f.runId === ref.runId && f.type !== "ack" && f.type !== "evaluation-set");
      throw new Error(`${model}/${split} of ${ref.runId} never graded (${entries.length} entries for ${items.length} items sent); frames: ${JSON.stringify(mine).slice(0, 2000)}; ${String(error)}`);
    });
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(1000);
    return this.closed;
  }

  terminate(): void {
    this.socket.terminate();
  }
}
