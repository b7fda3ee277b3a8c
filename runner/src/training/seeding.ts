// Every random number of a run comes from the run's seeded Rng. TensorFlow.js initialisers
// ignore seeds (and seed 0 in tf.random* means "unseeded"), so weights are drawn here.
import type { Rng } from "@transcend/tasks";

/** n draws from N(0, std²) by Box–Muller, as float32. */
export function normalArray(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    // 1 − u keeps the logarithm finite: next() is in [0, 1).
    const radius = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const angle = 2 * Math.PI * rng.next();
    out[i] = std * radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = std * radius * Math.sin(angle);
  }
  return out;
}

/** A seed for the few tf.random* calls (dropout masks): never 0, which tfjs reads as unseeded. */
export function tfSeed(rng: Rng): number {
  return 1 + (rng.uint32() % 2_147_483_646);
}

/** Index drawn from a categorical distribution given by non-negative weights. */
export function sampleCategorical(rng: Rng, weights: ArrayLike<number>, offset = 0, length = weights.length): number {
  let total = 0;
  for (let i = 0; i < length; i++) total += weights[offset + i] ?? 0;
  let threshold = rng.next() * total;
  for (let i = 0; i < length; i++) {
    threshold -= weights[offset + i] ?? 0;
    if (threshold < 0) return i;
  }
  // Rounding can leave a sliver of mass unassigned: fall back to the last token with weight.
  for (let i = length - 1; i >= 0; i--) if ((weights[offset + i] ?? 0) > 0) return i;
  return 0;
}
