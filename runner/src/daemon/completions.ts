// Completions → `completions` frames, each under MAX_FRAME_BYTES. One entry per
// completion: sample 0 is the greedy one, 1..n the sampled ones.
import { type AttemptRef, type EvaluatedModelName, MAX_FRAME_BYTES, completionsMessageSchema } from "@transcend/protocol";
import type { z } from "zod";
import type { ItemCompletions } from "../training";

export type CompletionsFrame = z.input<typeof completionsMessageSchema>;
type Entry = CompletionsFrame["entries"][number];

/** Room left in each frame for what JSON.stringify may add beyond our count (none expected; a margin costs nothing). */
const FRAME_MARGIN_BYTES = 1024;
const MAX_ENTRIES = 2000;
/** The protocol's cap on one completion; maxNewTokens ≤ 512 keeps the engine under it. */
const MAX_TOKENS = 512;

export function packCompletions(ref: AttemptRef, model: EvaluatedModelName, split: string, items: readonly ItemCompletions[]): CompletionsFrame[] {
  const entries: Entry[] = [];
  for (const item of items) {
    entries.push({ itemId: item.id, sample: 0, tokens: item.greedy.slice(0, MAX_TOKENS) });
    item.samples.forEach((tokens, index) => entries.push({ itemId: item.id, sample: index + 1, tokens: tokens.slice(0, MAX_TOKENS) }));
  }
  const empty: CompletionsFrame = { type: "completions", ...ref, model, split, entries: [] };
  const budget = MAX_FRAME_BYTES - FRAME_MARGIN_BYTES - Buffer.byteLength(JSON.stringify(empty));
  const frames: CompletionsFrame[] = [];
  let current: Entry[] = [];
  let used = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1; // and its comma
    if (current.length > 0 && (used + size > budget || current.length >= MAX_ENTRIES)) {
      frames.push({ ...empty, entries: current });
      current = [];
      used = 0;
    }
    current.push(entry);
    used += size;
  }
  if (current.length > 0) frames.push({ ...empty, entries: current });
  return frames;
}
