import { describe, expect, it } from "vitest";
import { createRng } from "./rng";

const draw = (seed: number | string, count = 8) => {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => rng.uint32());
};

describe("createRng", () => {
  it("gives the same numbers for the same seed and different numbers for different seeds", () => {
    expect(draw(42)).toEqual(draw(42));
    expect(draw("run-7")).toEqual(draw("run-7"));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(1)).not.toEqual(draw("1"));
  });

  it("forks by seed and label only, not by how much the parent has drawn", () => {
    const fresh = createRng(5).fork("data");
    const used = createRng(5);
    for (let i = 0; i < 100; i++) used.next();
    const forked = used.fork("data");
    expect(Array.from({ length: 5 }, () => forked.uint32())).toEqual(Array.from({ length: 5 }, () => fresh.uint32()));
    expect(createRng(5).fork("init").uint32()).not.toBe(createRng(5).fork("data").uint32());
  });

  it("draws integers uniformly within inclusive bounds", () => {
    const rng = createRng(9);
    const counts = new Map<number, number>();
    for (let i = 0; i < 60_000; i++) {
      const value = rng.int(-2, 3);
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const count of counts.values()) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(() => rng.int(3, 2)).toThrow(RangeError);
    expect(() => rng.pick([])).toThrow(RangeError);
  });

  it("keeps next() in [0, 1) and shuffles to a permutation", () => {
    const rng = createRng("shuffle");
    for (let i = 0; i < 10_000; i++) {
      const value = rng.next();
      expect(value >= 0 && value < 1).toBe(true);
    }
    const items = Array.from({ length: 20 }, (_, i) => i);
    const shuffled = rng.shuffle([...items]);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
  });

  it("refuses seeds that cannot be reproduced exactly", () => {
    expect(() => createRng(0.5)).toThrow(RangeError);
    expect(() => createRng(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
  });
});
