import { describe, expect, it } from "vitest";
import { defaultRunnerName, runnerCommands } from "./register-command";

describe("runnerCommands", () => {
  it("runs the server's register command through npx, then starts the daemon", () => {
    const register = "transcend-runner register --server https://transcend.example.org --token trt_abc --name 'Ada'\"'\"'s box'";
    expect(runnerCommands(register)).toBe(`npx ${register}\nnpx transcend-runner start`);
  });

  it("does not add a second npx", () => {
    expect(runnerCommands("npx transcend-runner register --server x --token y --name z").startsWith("npx transcend-runner register")).toBe(true);
  });
});

describe("defaultRunnerName", () => {
  it("adds a four-character suffix", () => {
    expect(defaultRunnerName(() => 0)).toBe("runner-0000");
    expect(defaultRunnerName(() => 0.999999)).toMatch(/^runner-[0-9a-z]{4}$/);
  });
});
