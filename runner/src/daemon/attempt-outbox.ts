// What one attempt has said to the server and must not lose across a reconnect.
//
// Progress frames carry `seq` (1, 2, … per attempt) and log chunks a byte offset; both
// stay here until the server acks them. Completions stay until the server says it graded
// their split. The final `finished`/`failed` stays until the server answers
// `result-recorded` (its end is committed) or refuses it as stale or foreign (nothing to
// retry): however long that takes, and across any number of reconnects. After a
// reconnect, resend() repeats everything in the order it was produced, the result last,
// so when the server records the result it has handled everything before it.
import type { AttemptRef, EvaluatedModelName, RunnerPhase, RunnerToServer } from "@transcend/protocol";
import type { CompletionsFrame } from "./completions";

/** Log chunks are batched: one frame per quarter second at most, or per 8 KiB. */
export const LOG_FLUSH_MS = 250;
export const LOG_CHUNK_BYTES = 8 * 1024;
/** Unacked logs kept across an outage; older chunks are dropped (the server places chunks by offset, a gap is visible). */
export const MAX_BUFFERED_LOG_BYTES = 4 * 1024 * 1024;
/** Unacked progress frames kept across an outage; the oldest go first. */
export const MAX_BUFFERED_PROGRESS = 20_000;

type Send = (message: RunnerToServer) => boolean;
type ProgressFrame = Extract<RunnerToServer, { type: "progress" }>;
type LogFrame = Extract<RunnerToServer, { type: "log" }>;
type TerminalFrame = Extract<RunnerToServer, { type: "finished" | "failed" }>;

export class AttemptOutbox {
  private nextSeq = 1;
  private progress: ProgressFrame[] = [];
  private logs: Array<LogFrame & { end: number }> = [];
  private logBytes = 0;
  private logOffset = 0;
  private pendingLog = "";
  private logTimer: NodeJS.Timeout | undefined;
  private readonly completions = new Map<string, CompletionsFrame[]>();
  private terminal: TerminalFrame | undefined;
  private discarded = false;

  constructor(
    private readonly ref: AttemptRef,
    private readonly send: Send,
    /** Called once the attempt has nothing left to deliver. */
    private readonly onSettled: () => void = () => undefined,
  ) {}

  /** The highest seq produced so far. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** The server recorded the result, or the attempt was dropped: nothing is left to deliver. */
  get resultDelivered(): boolean {
    return this.discarded;
  }

  /** A result is waiting for the server's `result-recorded`. */
  get resultPending(): boolean {
    return this.terminal !== undefined;
  }

  addProgress(phase: RunnerPhase, step: number, metrics: Record<string, number>): void {
    if (this.discarded) return;
    const frame: ProgressFrame = { type: "progress", ...this.ref, seq: this.nextSeq++, phase, step, metrics };
    this.progress.push(frame);
    if (this.progress.length > MAX_BUFFERED_PROGRESS) this.progress.shift();
    this.send(frame);
  }

  addLog(text: string): void {
    if (text === "" || this.discarded) return;
    this.pendingLog += text;
    if (Buffer.byteLength(this.pendingLog) >= LOG_CHUNK_BYTES) this.flushLog();
    else this.logTimer ??= setTimeout(() => this.flushLog(), LOG_FLUSH_MS).unref();
  }

  /** Sends whatever log text is waiting for its batch. */
  flushLog(): void {
    clearTimeout(this.logTimer);
    this.logTimer = undefined;
    for (const text of splitUtf8(this.pendingLog, LOG_CHUNK_BYTES)) {
      const bytes = Buffer.byteLength(text);
      const frame = { type: "log" as const, ...this.ref, offset: this.logOffset, text, end: this.logOffset + bytes };
      this.logOffset += bytes;
      this.logs.push(frame);
      this.logBytes += bytes;
      while (this.logBytes > MAX_BUFFERED_LOG_BYTES && this.logs.length > 1) this.logBytes -= bytes_(this.logs.shift());
      this.send(logFrame(frame));
    }
    this.pendingLog = "";
  }

  addCompletions(model: EvaluatedModelName, split: string, frames: CompletionsFrame[]): void {
    if (this.discarded) return;
    const key = `${model}:${split}`;
    this.completions.set(key, [...(this.completions.get(key) ?? []), ...frames]);
    for (const frame of frames) this.send(frame);
  }

  /** The attempt's result: sent after everything else, kept until the server records it. */
  finish(frame: TerminalFrame): void {
    if (this.discarded) return;
    this.flushLog();
    this.terminal = frame;
    this.send(frame);
  }

  ack(seq: number, logOffset: number | undefined): void {
    this.progress = this.progress.filter((frame) => frame.seq > seq);
    if (logOffset !== undefined) {
      this.logs = this.logs.filter((chunk) => chunk.end > logOffset);
      this.logBytes = this.logs.reduce((sum, chunk) => sum + (chunk.end - chunk.offset), 0);
    }
  }

  /**
   * The server committed the attempt's end. Everything sent before the result was handled
   * before it (one connection's frames are handled in order, and a re-send repeats them
   * ahead of the result), so nothing else is owed: forget the attempt. Returns whether a
   * result was waiting (a repeat answer, or one for an attempt without a result, is ignored).
   */
  recorded(): boolean {
    if (!this.terminal) return false;
    this.discard();
    this.onSettled();
    return true;
  }

  graded(model: EvaluatedModelName, split: string): void {
    this.completions.delete(`${model}:${split}`);
  }

  /** After a reconnect: everything not yet acknowledged, in the order it was produced. */
  resend(): void {
    for (const frame of this.progress) this.send(frame);
    for (const chunk of this.logs) this.send(logFrame(chunk));
    for (const frames of this.completions.values()) for (const frame of frames) this.send(frame);
    if (this.terminal) this.send(this.terminal);
  }

  /** Forgets everything (the attempt was cancelled, or its lease is gone): nothing more is sent for it. */
  discard(): void {
    this.discarded = true;
    clearTimeout(this.logTimer);
    this.progress = [];
    this.logs = [];
    this.pendingLog = "";
    this.completions.clear();
    this.terminal = undefined;
  }
}

function bytes_(chunk: { offset: number; end: number } | undefined): number {
  return chunk ? chunk.end - chunk.offset : 0;
}

function logFrame(chunk: LogFrame & { end: number }): LogFrame {
  const { end: _end, ...frame } = chunk;
  return frame;
}

/** Splits text into pieces of at most `maxBytes` UTF-8 bytes without cutting a character. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let piece = "";
  let size = 0;
  for (const char of text) {
    const charBytes = Buffer.byteLength(char);
    if (size + charBytes > maxBytes && piece !== "") {
      pieces.push(piece);
      piece = "";
      size = 0;
    }
    piece += char;
    size += charBytes;
  }
  if (piece !== "") pieces.push(piece);
  return pieces;
}
