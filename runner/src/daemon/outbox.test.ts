// The pieces of the daemon that decide what goes on the wire: completion packing under
// the frame limit, the outbox's seq/offset buffering and re-sending, the progress rate
// limit, and evaluation-set reassembly. Every frame is encoded with the protocol package.
import { MAX_FRAME_BYTES, type RunnerToServer, encodeRunnerMessage } from "@transcend/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ProgressEvent } from "../training";
import { AttemptOutbox, LOG_CHUNK_BYTES, splitUtf8 } from "./attempt-outbox";
import { packCompletions } from "./completions";
import { EvaluationSetAssembly } from "./evaluation-sets";
import { ProgressReporter } from "./progress-reporter";

const ref = { runId: "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", attempt: 2 };

afterEach(() => {
  vi.useRealTimers();
});

describe("packCompletions", () => {
  it("puts greedy as sample 0 and samples as 1..n, in frames that each encode under MAX_FRAME_BYTES", () => {
    // 300 items × 9 completions × 64 tokens of up to 32 characters: far more than one frame.
    const token = (i: number) => `t${"x".repeat(i % 31)}`;
    const completion = () => Array.from({ length: 64 }, (_, i) => token(i));
    const items = Array.from({ length: 300 }, (_, i) => ({ id: `id-${i}`, greedy: completion(), samples: Array.from({ length: 8 }, completion) }));
    const frames = packCompletions(ref, "base", "ood", items);
    expect(frames.length).toBeGreaterThan(10);
    for (const frame of frames) expect(Buffer.byteLength(encodeRunnerMessage(frame))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const entries = frames.flatMap((f) => f.entries);
    expect(entries).toHaveLength(300 * 9);
    expect(entries[0]).toEqual({ itemId: "id-0", sample: 0, tokens: items[0]?.greedy });
    expect(entries[8]).toEqual({ itemId: "id-0", sample: 8, tokens: items[0]?.samples[7] });
  });
});

describe("AttemptOutbox", () => {
  function outbox() {
    const sent: RunnerToServer[] = [];
    let connected = true;
    let settled = 0;
    const box = new AttemptOutbox(
      ref,
      (message) => {
        encodeRunnerMessage(message); // every frame must be valid
        if (connected) sent.push(message);
        return connected;
      },
      () => (settled += 1),
    );
    return { box, sent, setConnected: (value: boolean) => (connected = value), settled: () => settled };
  }

  it("numbers progress from 1, keeps it until acked, and re-sends only what is unacked, result last", () => {
    const { box, sent, setConnected } = outbox();
    for (let step = 1; step <= 5; step++) box.addProgress("pretraining", step, { loss: 1 / step });
    box.ack(3, undefined);
    setConnected(false);
    box.addProgress("grpo", 1, { reward: 0.5 });
    box.finish({ type: "failed", ...ref, retryable: true, error: "x" });
    setConnected(true);
    sent.length = 0;
    box.resend();
    expect(sent.map((m) => (m.type === "progress" ? m.seq : m.type))).toEqual([4, 5, 6, "failed"]);
  });

  it("places log chunks by byte offset, splits them at 8 KiB without cutting a character, drops them on ack", () => {
    vi.useFakeTimers();
    const { box, sent } = outbox();
    box.addLog("é".repeat(LOG_CHUNK_BYTES)); // 2 bytes each: two chunks
    const logs = sent.filter((m) => m.type === "log");
    expect(logs.map((m) => m.offset)).toEqual([0, LOG_CHUNK_BYTES]);
    expect(logs.every((m) => Buffer.byteLength(m.text) <= LOG_CHUNK_BYTES)).toBe(true);
    box.addLog("tail\n");
    vi.advanceTimersByTime(300);
    expect(sent.at(-1)).toMatchObject({ type: "log", offset: 2 * LOG_CHUNK_BYTES, text: "tail\n" });
    box.ack(0, 2 * LOG_CHUNK_BYTES);
    sent.length = 0;
    box.resend();
    expect(sent).toEqual([{ type: "log", ...ref, offset: 2 * LOG_CHUNK_BYTES, text: "tail\n" }]);
  });

  it("keeps completions until their split is graded; a progress ack is never taken for the result's answer", () => {
    const { box, sent, settled } = outbox();
    box.addCompletions("grpo", "id", packCompletions(ref, "grpo", "id", [{ id: "a", greedy: ["1"], samples: [["2"]] }]));
    box.finish({ type: "finished", ...ref, engineVersion: "1", checkpoints: {}, selfReported: {} });
    box.ack(0, undefined);
    box.graded("grpo", "id");
    expect(settled()).toBe(0);
    expect(box.resultDelivered).toBe(false);
    sent.length = 0;
    box.resend();
    expect(sent.map((m) => m.type)).toEqual(["finished"]);
  });

  it("forgets the attempt the moment the server records the result, with no wait", () => {
    vi.useFakeTimers();
    const { box, sent, settled } = outbox();
    box.addProgress("grpo", 1, { reward: 1 });
    box.finish({ type: "finished", ...ref, engineVersion: "1", checkpoints: {}, selfReported: {} });
    expect(box.recorded()).toBe(true);
    // No timer was advanced: settling waits on the server's answer, not on a clock.
    expect(settled()).toBe(1);
    expect(box.resultDelivered).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    sent.length = 0;
    box.resend();
    expect(sent).toEqual([]);
    // A repeated answer changes nothing.
    expect(box.recorded()).toBe(false);
    expect(settled()).toBe(1);
  });

  it("keeps a result through any wait and any number of lost connections, and re-sends it after each", () => {
    vi.useFakeTimers();
    const { box, sent, setConnected, settled } = outbox();
    box.finish({ type: "failed", ...ref, retryable: false, error: "bad" });
    for (let reconnect = 0; reconnect < 3; reconnect++) {
      setConnected(false);
      vi.advanceTimersByTime(120_000);
      expect(box.resultDelivered).toBe(false);
      setConnected(true);
      sent.length = 0;
      box.resend();
      expect(sent.map((m) => m.type)).toEqual(["failed"]);
    }
    expect(settled()).toBe(0);
    box.recorded();
    expect(settled()).toBe(1);
  });

  it("an answer for an attempt with no result yet (still running) changes nothing", () => {
    const { box, sent, settled } = outbox();
    box.addProgress("pretraining", 1, { loss: 1 });
    expect(box.recorded()).toBe(false);
    expect(settled()).toBe(0);
    sent.length = 0;
    box.resend();
    expect(sent.map((m) => m.type)).toEqual(["progress"]);
  });

  it("splitUtf8 never exceeds the byte budget", () => {
    const pieces = splitUtf8("a😀".repeat(1000), 7);
    expect(pieces.join("")).toBe("a😀".repeat(1000));
    expect(pieces.every((p) => Buffer.byteLength(p) <= 7)).toBe(true);
  });
});

describe("ProgressReporter", () => {
  it("sends phase changes at once, rate-limits steps to the latest, and never loses a phase's last step", () => {
    vi.useFakeTimers();
    const updates: Array<{ phase: string; step: number }> = [];
    const reporter = new ProgressReporter((u) => updates.push({ phase: u.phase, step: u.step }), 200);
    const step = (n: number): ProgressEvent => ({
      type: "pretraining-step",
      report: { step: n, totalSteps: 100, loss: 1, gradNorm: 1, learningRate: 1e-3, tokens: 10 },
    });
    reporter.handle({ type: "phase-started", phase: "pretraining" });
    for (let n = 1; n <= 100; n++) reporter.handle(step(n));
    reporter.handle({ type: "phase-finished", phase: "pretraining", seconds: 0.01 });
    expect(updates).toEqual([
      { phase: "pretraining", step: 0 },
      { phase: "pretraining", step: 100 },
      { phase: "pretraining", step: 100 },
    ]);
    reporter.handle({ type: "evaluation-progress", phase: "base", split: "id", fraction: Number.NaN });
    vi.advanceTimersByTime(300);
    expect(updates.at(-1)).toEqual({ phase: "evaluating_base", step: 100 });
  });
});

describe("EvaluationSetAssembly", () => {
  const chunk = (offset: number, ids: string[], total = 3) => ({
    type: "evaluation-set" as const,
    ...ref,
    model: "base" as const,
    split: "id",
    samplesPerItem: 4,
    offset,
    total,
    items: ids.map((id) => ({ id, prompt: ["<bos>", id] })),
  });

  it("completes when every offset arrived, ignoring repeats, in offset order", () => {
    const assembly = new EvaluationSetAssembly();
    expect(assembly.add(chunk(2, ["c"]))).toBeUndefined();
    expect(assembly.add(chunk(2, ["c"]))).toBeUndefined();
    expect(assembly.add(chunk(0, ["a", "b"]))?.map((i) => i.id)).toEqual(["a", "b", "c"]);
    expect(() => new EvaluationSetAssembly().add(chunk(2, ["c", "d"]))).toThrow(/runs past/);
  });
});
