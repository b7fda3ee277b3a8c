import { describe, expect, it } from "vitest";
import { saveProblems } from "./save-problems";

describe("saveProblems", () => {
  it("puts field issues at their form paths", () => {
    const error = {
      message: "invalid",
      data: { code: "BAD_REQUEST", issues: [{ path: "spec.splits.1.params.depth.max", message: "too deep" }, { path: "spec", message: "bad" }] },
    };
    expect(saveProblems(error, { prefix: "spec." })).toEqual([
      { path: "splits.1.params.depth.max", message: "too deep" },
      { path: "spec", message: "bad" },
    ]);
  });

  it("shows a taken slug next to the slug", () => {
    const error = { message: "A task variant called x already exists.", data: { code: "CONFLICT", issues: null } };
    expect(saveProblems(error, { conflictPath: "slug" })).toEqual([{ path: "slug", message: "A task variant called x already exists." }]);
  });

  it("keeps other messages for the whole form", () => {
    expect(saveProblems({ message: "boom", data: { code: "INTERNAL_SERVER_ERROR" } })).toEqual([{ message: "boom" }]);
    expect(saveProblems(new Error(""))).toEqual([{ message: "Could not save. Try again." }]);
  });
});
