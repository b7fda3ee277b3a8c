// Splits an evaluation set into `evaluation-set` frames that each fit MAX_FRAME_BYTES.
import { MAX_FRAME_BYTES, encodeServerMessage, type AttemptRef, type EvaluatedModelName, type ServerToRunner } from "@transcend/protocol";

type EvaluationSetFrame = Extract<ServerToRunner, { type: "evaluation-set" }>;

/** Room left for the frame's envelope (ids, counters) besides its items. */
const ENVELOPE_BYTES = 1_024;
const MAX_ITEMS_PER_FRAME = 1_000;

export function evaluationSetFrames(
  ref: AttemptRef,
  input: { model: EvaluatedModelName; split: string; samplesPerItem: number; items: { id: string; prompt: string[] }[] },
): EvaluationSetFrame[] {
  const frames: EvaluationSetFrame[] = [];
  const total = input.items.length;
  let chunk: { id: string; prompt: string[] }[] = [];
  let chunkBytes = 0;
  let offset = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    frames.push({ type: "evaluation-set", ...ref, model: input.model, split: input.split, samplesPerItem: input.samplesPerItem, offset, total, items: chunk });
    offset += chunk.length;
    chunk = [];
    chunkBytes = 0;
  };
  for (const item of input.items) {
    const bytes = Buffer.byteLength(JSON.stringify(item), "utf8") + 1;
    if (chunk.length > 0 && (chunkBytes + bytes > MAX_FRAME_BYTES - ENVELOPE_BYTES || chunk.length >= MAX_ITEMS_PER_FRAME)) flush();
    chunk.push(item);
    chunkBytes += bytes;
  }
  flush();
  // encodeServerMessage re-checks each frame's size; a single item over the limit is a bug upstream.
  for (const frame of frames) encodeServerMessage(frame);
  return frames;
}
