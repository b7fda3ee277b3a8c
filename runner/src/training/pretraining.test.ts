import { describe, expect, it } from "vitest";
import { learningRateAt, makeTokenBatch } from "./pretraining";

describe("learningRateAt", () => {
  const schedule = { peak: 1e-3, warmupSteps: 10, totalSteps: 110, cosineDecay: true, minRatio: 0.1 };
  it("warms up linearly, peaks, then follows a cosine down to the floor", () => {
    expect(learningRateAt(0, schedule)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(9, schedule)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(10, schedule)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(60, schedule)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12); // halfway: mean of peak and floor
    expect(learningRateAt(110, schedule)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(500, schedule)).toBeCloseTo(1e-4, 12);
  });
  it("stays at the peak without cosine decay", () => {
    expect(learningRateAt(80, { ...schedule, cosineDecay: false })).toBe(1e-3);
  });
});

describe("makeTokenBatch", () => {
  const sequences = [
    { tokens: [1, 5, 6, 3, 7, 2], completionStart: 3 },
    { tokens: [1, 5, 3, 2], completionStart: 2 },
  ];
  it("shifts targets by one, right-pads, and supervises every real target under `all`", () => {
    const batch = makeTokenBatch(sequences, "all", 0);
    expect(batch.length).toBe(5);
    expect(Array.from(batch.inputs)).toEqual([1, 5, 6, 3, 7, 1, 5, 3, 0, 0]);
    expect(Array.from(batch.targets)).toEqual([5, 6, 3, 7, 2, 5, 3, 2, 0, 0]);
    expect(Array.from(batch.weights)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  });
  it("supervises only completion tokens under `completion`", () => {
    const batch = makeTokenBatch(sequences, "completion", 0);
    expect(Array.from(batch.weights)).toEqual([0, 0, 1, 1, 1, 0, 1, 1, 0, 0]);
  });
});
