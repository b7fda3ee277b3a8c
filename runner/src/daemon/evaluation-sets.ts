// Collects the `evaluation-set` chunks of one requested split until every item from 0 to
// `total` has arrived. Chunks can come twice (the request is re-sent after a reconnect):
// they are placed by offset, so a repeat changes nothing.
import type { evaluationSetMessageSchema } from "@transcend/protocol";
import type { z } from "zod";
import type { EvaluationItem } from "../training";

type EvaluationSetFrame = z.output<typeof evaluationSetMessageSchema>;

export class EvaluationSetAssembly {
  private items: Array<EvaluationItem | undefined> = [];
  private received = 0;
  private total: number | undefined;
  samplesPerItem: number | undefined;

  /** Adds one chunk; returns the whole set once complete. Throws on chunks that contradict each other. */
  add(frame: EvaluationSetFrame): EvaluationItem[] | undefined {
    if (this.total === undefined) {
      this.total = frame.total;
      this.items = new Array<EvaluationItem | undefined>(frame.total);
    } else if (this.total !== frame.total) {
      throw new Error(`the server sent chunks of ${this.total} and of ${frame.total} items for one split`);
    }
    this.samplesPerItem = frame.samplesPerItem;
    if (frame.offset + frame.items.length > frame.total) throw new Error(`a chunk at ${frame.offset} runs past the ${frame.total} items of the split`);
    frame.items.forEach((item, index) => {
      const at = frame.offset + index;
      if (this.items[at] === undefined) this.received += 1;
      this.items[at] = { id: item.id, prompt: item.prompt };
    });
    if (this.received < this.total) return undefined;
    return this.items.filter((item): item is EvaluationItem => item !== undefined);
  }
}
