// Helpers for the training tests: a small seeded Rng (so model tests need no task family)
// and the backend the tests run on.
import type { Rng } from "@transcend/tasks";
import { selectBackend } from "../backend";

/** mulberry32: tiny, seeded, good enough for test data. */
export function testRng(seed: number): Rng {
  let state = seed >>> 0;
  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => uint32() / 4_294_967_296;
  const rng: Rng = {
    next,
    uint32,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
    shuffle: <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
    fork: (label: string) => {
      let h = seed >>> 0;
      for (const ch of label) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
      return testRng(h);
    },
  };
  return rng;
}

/** The tests run on the backend volunteers' machines use: wasm. */
export async function useTestBackend(): Promise<void> {
  await selectBackend(process.env.TRANSCEND_TEST_BACKEND === "cpu" ? "cpu" : "wasm");
}
