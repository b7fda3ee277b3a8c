import { describe, expect, it } from "vitest";
import {
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  decodeRunnerMessage,
  decodeServerMessage,
  encodeRunnerMessage,
  encodeServerMessage,
  isFatalCloseCode,
  CLOSE_CODES,
  ProtocolEncodeError,
  type RunnerToServer,
} from "./messages";

const runId = "2f1c7c52-8a53-4c55-9a39-5f4ab0a2a7a1";

describe("runner ⇄ server frames", () => {
  it("round-trips every runner message kind", () => {
    const frames = [
      {
        type: "hello",
        protocolVersion: PROTOCOL_VERSION,
        runnerVersion: "0.1.0",
        capabilities: { backend: "wasm", device: "x86", cores: 2, memoryBytes: 1e9, matmul: { gflops: 40, path: "OpenBLAS" } },
      },
      { type: "ready", slots: 1 },
      { type: "accepted", runId, attempt: 1 },
      { type: "heartbeat", attempts: [{ runId, attempt: 1 }] },
      { type: "progress", runId, attempt: 1, seq: 1, phase: "pretraining", step: 10, metrics: { loss: 2.5 } },
      { type: "log", runId, attempt: 1, offset: 0, text: "hello\n" },
      { type: "evaluation-request", runId, attempt: 1, model: "base", split: "id" },
      { type: "completions", runId, attempt: 1, model: "base", split: "id", entries: [{ itemId: "a", sample: 0, tokens: ["1", "<eos>"] }] },
      { type: "finished", runId, attempt: 1, engineVersion: "1", checkpoints: {}, selfReported: { idAccuracy: 1 } },
      { type: "failed", runId, attempt: 1, retryable: false, error: "out of memory" },
    ] satisfies RunnerToServer[];
    for (const frame of frames) {
      const decoded = decodeRunnerMessage(encodeRunnerMessage(frame));
      expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
    }
    // The hello's defaults are filled in on receive.
    const hello = decodeRunnerMessage(encodeRunnerMessage(frames[0] as RunnerToServer));
    expect(hello.ok && hello.message.type === "hello" && hello.message.activeAttempts).toEqual([]);
  });

  it("round-trips server messages and fills defaults", () => {
    const welcome = decodeServerMessage(
      encodeServerMessage({ type: "welcome", protocolVersion: PROTOCOL_VERSION, serverVersion: "1", connectionId: "c" }),
    );
    expect(welcome.ok && welcome.message.type === "welcome" && welcome.message.heartbeatIntervalMs).toBe(10_000);
    const assign = decodeServerMessage(
      encodeServerMessage({ type: "assign", runId, attempt: 2, variant: {}, recipe: {}, seed: 3, attemptToken: "t".repeat(32) }),
    );
    expect(assign.ok).toBe(true);
  });

  it("acknowledges a result with result-recorded, which names only an ended outcome", () => {
    const recorded = decodeServerMessage(encodeServerMessage({ type: "result-recorded", runId, attempt: 1, outcome: "succeeded" }));
    expect(recorded).toEqual({ ok: true, message: { type: "result-recorded", runId, attempt: 1, outcome: "succeeded" } });
    // "running" is not an end: a server cannot acknowledge a result it has not recorded.
    expect(decodeServerMessage(JSON.stringify({ type: "result-recorded", runId, attempt: 1, outcome: "running" }))).toMatchObject({ ok: false });
    expect(decodeServerMessage(JSON.stringify({ type: "result-recorded", runId, outcome: "failed" }))).toMatchObject({ ok: false });
  });

  it("names the field that is wrong", () => {
    const decoded = decodeRunnerMessage(JSON.stringify({ type: "progress", runId, attempt: 0, seq: 1, phase: "grpo", step: 1, metrics: {} }));
    expect(decoded).toEqual({ ok: false, error: expect.stringContaining("at attempt") });
    expect(decodeRunnerMessage("{")).toEqual({ ok: false, error: "frame is not valid JSON" });
    expect(decodeRunnerMessage(JSON.stringify({ type: "nope" }))).toMatchObject({ ok: false });
  });

  it("refuses frames over the limit on both sides", () => {
    const big = "x".repeat(MAX_FRAME_BYTES);
    expect(decodeRunnerMessage(JSON.stringify({ type: "log", runId, attempt: 1, offset: 0, text: big }))).toMatchObject({ ok: false });
    const entries = Array.from({ length: 2000 }, (_, i) => ({ itemId: `item-${i}`, sample: 1, tokens: Array(20).fill("<answer>") }));
    expect(() => encodeRunnerMessage({ type: "completions", runId, attempt: 1, model: "grpo", split: "id", entries })).toThrow(
      ProtocolEncodeError,
    );
  });

  it("treats refusals as fatal except a replaced connection", () => {
    expect(isFatalCloseCode(CLOSE_CODES.revoked)).toBe(true);
    expect(isFatalCloseCode(CLOSE_CODES.replaced)).toBe(false);
    expect(isFatalCloseCode(CLOSE_CODES.goingAway)).toBe(false);
  });
});
