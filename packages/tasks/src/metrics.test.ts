import { describe, expect, it } from "vitest";
import { meanPassAtK, meanWithCI, passAtK, studentTQuantile } from "./metrics";

/** The definition, in exact integer arithmetic: 1 − C(n−c,k)/C(n,k). */
function exactPassAtK(n: number, c: number, k: number): number {
  const choose = (total: number, picked: number): bigint => {
    if (picked < 0 || picked > total) return 0n;
    let result = 1n;
    for (let i = 1; i <= picked; i++) result = (result * BigInt(total - picked + i)) / BigInt(i);
    return result;
  };
  const scale = 10n ** 30n;
  return 1 - Number((choose(n - c, k) * scale) / choose(n, k)) / Number(scale);
}

describe("passAtK", () => {
  it("matches hand-computed values", () => {
    expect(passAtK(5, 2, 1)).toBeCloseTo(2 / 5, 12); // 1 − 3/5
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12); // 1 − C(3,2)/C(5,2) = 1 − 3/10
    expect(passAtK(10, 3, 3)).toBeCloseTo(1 - 35 / 120, 12); // 1 − C(7,3)/C(10,3)
    expect(passAtK(200, 10, 1)).toBeCloseTo(0.05, 12);
    expect(passAtK(200, 1, 100)).toBeCloseTo(0.5, 12); // C(199,100)/C(200,100) = 100/200
    expect(passAtK(200, 2, 100)).toBeCloseTo(1 - (100 * 99) / (200 * 199), 12);
  });

  it("is 1 when fewer than k samples are wrong (k > n − c)", () => {
    expect(passAtK(5, 2, 4)).toBe(1);
    expect(passAtK(200, 150, 51)).toBe(1);
    expect(passAtK(10, 10, 10)).toBe(1);
  });

  it("is 0 when no sample is correct (c = 0)", () => {
    expect(passAtK(1, 0, 1)).toBe(0);
    expect(passAtK(200, 0, 200)).toBe(0);
  });

  it("agrees with exact big-integer arithmetic up to n = 400 without overflow", () => {
    for (const n of [1, 7, 50, 200, 400]) {
      for (const c of [0, 1, Math.floor(n / 3), n - 1, n].filter((value) => value >= 0)) {
        for (const k of [1, 2, Math.ceil(n / 2), n].filter((value) => value <= n)) {
          const value = passAtK(n, c, k);
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeCloseTo(exactPassAtK(n, c, k), 10);
        }
      }
    }
  });

  it("refuses counts outside their ranges", () => {
    expect(() => passAtK(5, 6, 1)).toThrow(RangeError);
    expect(() => passAtK(5, 2, 6)).toThrow(RangeError);
    expect(() => passAtK(5, 2, 0)).toThrow(RangeError);
    expect(() => passAtK(5, 1.5, 1)).toThrow(RangeError);
  });

  it("averages over items", () => {
    expect(meanPassAtK([{ n: 5, correct: 2 }, { n: 5, correct: 0 }], 1)).toBeCloseTo(0.2, 12);
  });
});

describe("meanWithCI", () => {
  it("uses Student t quantiles", () => {
    // Two-sided 95% critical values from standard tables.
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062047, 6);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.3026527, 6);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.7764451, 6);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.2621572, 6);
    expect(studentTQuantile(0.975, 29)).toBeCloseTo(2.0452296, 6);
    expect(studentTQuantile(0.995, 5)).toBeCloseTo(4.0321430, 6);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 4);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764451, 6);
  });

  it("gives mean ± t·sd/√n over seeds", () => {
    const summary = meanWithCI([1, 2, 3]);
    expect(summary.mean).toBe(2);
    expect(summary.sd).toBeCloseTo(1, 12);
    expect(summary.halfWidth).toBeCloseTo(4.3026527 / Math.sqrt(3), 6);
    expect(summary.lower).toBeCloseTo(2 - 4.3026527 / Math.sqrt(3), 6);
    expect(meanWithCI([0.5, 0.5, 0.5, 0.5]).halfWidth).toBe(0);
  });

  it("gives no interval from a single seed", () => {
    expect(meanWithCI([0.4])).toEqual({ n: 1, mean: 0.4, sd: null, halfWidth: null, lower: null, upper: null, confidence: 0.95 });
    expect(() => meanWithCI([])).toThrow(RangeError);
  });
});
