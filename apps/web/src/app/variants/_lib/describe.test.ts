import { describe, expect, it } from "vitest";
import { describeMix, describeSplitParams } from "./describe";
import { startingVariant } from "./draft";

describe("variants in words", () => {
  it("describes a split's parameters", () => {
    const split = startingVariant("mod-arith").splits[0];
    if (!split) throw new Error("no split");
    expect(describeSplitParams(split)).toEqual(["depth 1–3", "operand digits 1", "token set A", "modulus 7", "operators + - *", "operator mixing any"]);
  });

  it("describes a mix as shares", () => {
    expect(describeMix({ id: 0.95, ood: 0.05 })).toBe("id 95% · ood 5%");
    expect(describeMix({ id: 1, ood: 0 })).toBe("id 100%");
    expect(describeMix({})).toBe("—");
  });
});
