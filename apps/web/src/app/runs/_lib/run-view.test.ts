import { describe, expect, it } from "vitest";
import {
  curveSeries,
  formatAgo,
  formatDuration,
  formatGain,
  formatPercent,
  optimalCorrectMass,
  theoreticalCurve,
  thinPoints,
} from "./run-view";

describe("optimalCorrectMass", () => {
  it("matches Q·e^{1/β} / (Q·e^{1/β} + 1 − Q) worked out by hand", () => {
    // β = 1: e ≈ 2.718281828; Q = 0.5 → e / (e + 1) ≈ 0.7310585786
    expect(optimalCorrectMass(0.5, 1)).toBeCloseTo(0.7310585786, 9);
    // β = 0.5: e² ≈ 7.389056099; Q = 0.1 → 0.7389056 / (0.7389056 + 0.9) ≈ 0.4508531
    expect(optimalCorrectMass(0.1, 0.5)).toBeCloseTo(0.450853, 6);
  });

  it("keeps what the theory says cannot move: nothing from Q = 0, nothing past Q = 1", () => {
    for (const beta of [0, 0.04, 1, 10]) {
      expect(optimalCorrectMass(0, beta)).toBe(0);
      expect(optimalCorrectMass(1, beta)).toBe(1);
    }
  });

  it("stays finite for a β so small that e^{1/β} overflows", () => {
    const q = optimalCorrectMass(0.01, 0.001);
    expect(Number.isFinite(q)).toBe(true);
    expect(q).toBeCloseTo(1, 12);
    expect(optimalCorrectMass(0.3, 0)).toBe(1);
  });

  it("never lowers the correct mass (GRPO reweights toward the reward)", () => {
    for (const point of theoreticalCurve(0.04, 51)) expect(point.qStar).toBeGreaterThanOrEqual(point.q - 1e-12);
  });
});

describe("theoreticalCurve", () => {
  it("runs from (0, 0) to (1, 1) in increasing Q", () => {
    const curve = theoreticalCurve(0.5, 11);
    expect(curve).toHaveLength(11);
    expect(curve[0]).toEqual({ q: 0, qStar: 0 });
    expect(curve[10]?.q).toBeCloseTo(1, 12);
    expect(curve[10]?.qStar).toBe(1);
    for (let i = 1; i < curve.length; i++) expect(curve[i]?.q).toBeGreaterThan(curve[i - 1]?.q ?? 1);
  });
});

describe("curveSeries", () => {
  it("pivots metric rows into one sorted series per reported curve", () => {
    const series = curveSeries([
      { phase: "pretraining", step: 2, name: "loss", value: 2.5 },
      { phase: "pretraining", step: 1, name: "loss", value: 3.1 },
      { phase: "pretraining", step: 1, name: "learningRate", value: 1e-3 },
      { phase: "grpo", step: 1, name: "meanReward", value: 0.25 },
      { phase: "grpo", step: 1, name: "zeroStdFraction", value: 0.5 },
      { phase: "grpo", step: 1, name: "loss", value: 0.01 },
      { phase: "grpo", step: 2, name: "kl", value: Number.NaN },
    ]);
    expect(series.map((s) => s.definition.id)).toEqual(["pretraining-loss", "reward", "zero-variance", "grpo-loss"]);
    expect(series[0]?.points).toEqual([
      { step: 1, value: 3.1 },
      { step: 2, value: 2.5 },
    ]);
    // A GRPO loss never lands on the pretraining loss chart.
    expect(series[3]?.points).toEqual([{ step: 1, value: 0.01 }]);
  });

  it("accepts dashed phase names and the other spelling of a metric", () => {
    const series = curveSeries([{ phase: "grpo", step: 3, name: "reward", value: 0.75 }]);
    expect(series).toHaveLength(1);
    expect(series[0]?.definition.id).toBe("reward");
  });

  it("keeps the last value a re-sent step reported", () => {
    const series = curveSeries([
      { phase: "pretraining", step: 1, name: "loss", value: 3 },
      { phase: "pretraining", step: 1, name: "loss", value: 2 },
    ]);
    expect(series[0]?.points).toEqual([{ step: 1, value: 2 }]);
  });
});

describe("thinPoints", () => {
  it("keeps short series whole and long ones to the limit, last point included", () => {
    expect(thinPoints([1, 2, 3], 10)).toEqual([1, 2, 3]);
    const long = Array.from({ length: 10_000 }, (_, i) => i);
    const thinned = thinPoints(long, 100);
    expect(thinned).toHaveLength(100);
    expect(thinned[0]).toBe(0);
    expect(thinned[99]).toBe(9_999);
  });
});

describe("formatting", () => {
  it("formats durations, ages, percentages and gains", () => {
    expect(formatDuration(4_200)).toBe("4 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(3_780_000)).toBe("1 h 3 min");
    expect(formatDuration(-1)).toBe("—");
    const now = new Date("2026-01-01T12:00:00Z");
    expect(formatAgo(new Date("2026-01-01T11:59:58Z"), now)).toBe("just now");
    expect(formatAgo(new Date("2026-01-01T11:57:00Z"), now)).toBe("3 min ago");
    expect(formatPercent(0.4567)).toBe("45.7%");
    expect(formatPercent(null)).toBe("—");
    expect(formatGain(0.032)).toBe("+3.2 pp");
    expect(formatGain(-0.01)).toBe("−1.0 pp");
  });
});
