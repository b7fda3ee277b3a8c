import { describe, expect, it } from "vitest";
import { halfWidthPoints, parseView, points, sortLink, viewQuery } from "./query";

describe("leaderboard URLs", () => {
  it("parse known values and ignore the rest", () => {
    expect(parseView({})).toEqual({ sort: "ood-gain", direction: "desc" });
    expect(parseView({ sort: "seeds", dir: "asc", axis: "depth", family: "mod-arith", backend: "wasm" })).toEqual({
      sort: "seeds",
      direction: "asc",
      axis: "depth",
      family: "mod-arith",
      backend: "wasm",
    });
    expect(parseView({ sort: "drop table", axis: "id", backend: ["cpu", "wasm"] })).toEqual({
      sort: "ood-gain",
      direction: "desc",
      backend: "cpu",
    });
  });

  it("round-trip through the query string, defaults omitted", () => {
    const view = parseView({ sort: "date", axis: "length" });
    expect(viewQuery(view)).toBe("?sort=date&axis=length");
    expect(parseView(Object.fromEntries(new URLSearchParams(viewQuery(view))))).toEqual(view);
    expect(viewQuery(parseView({}))).toBe("");
  });

  it("a column link sorts by it, then flips", () => {
    const view = parseView({ axis: "depth" });
    expect(sortLink("/leaderboard/x", view, "seeds")).toBe("/leaderboard/x?sort=seeds&axis=depth");
    expect(sortLink("/leaderboard/x", view, "ood-gain")).toBe("/leaderboard/x?dir=asc&axis=depth");
    expect(sortLink("/leaderboard/x", parseView({}), "recipe")).toBe("/leaderboard/x?sort=recipe&dir=asc");
  });

  it("formats gains in points", () => {
    expect(points(0.125)).toBe("+12.5 pts");
    expect(points(-0.05)).toBe("−5.0 pts");
    expect(points(0)).toBe("±0.0 pts");
    expect(halfWidthPoints(null)).toBe("");
    expect(halfWidthPoints(0.0312)).toBe("± 3.1");
  });
});
