import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { defaultRunnerName, registerCommand, shellQuote } from "./register-command";

describe("registerCommand", () => {
  it("is one line: register with the server, token and name, then start", () => {
    expect(registerCommand({ server: "https://transcend.example.org", token: "trt_abc-123", name: "gpu-box" })).toBe(
      "npx transcend-runner register --server https://transcend.example.org --token trt_abc-123 --name gpu-box && npx transcend-runner start",
    );
  });

  it("quotes names a shell would split or expand, and the shell reads them back unchanged", () => {
    for (const name of ["Ada's box", "my runner", "$(rm -rf ~)", "a;b", "tab\there"]) {
      const quoted = shellQuote(name);
      expect(execFileSync("/bin/sh", ["-c", `printf %s ${quoted}`]).toString()).toBe(name);
    }
  });
});

describe("defaultRunnerName", () => {
  it("adds a four-character suffix", () => {
    expect(defaultRunnerName(() => 0)).toBe("runner-0000");
    expect(defaultRunnerName(() => 0.999999)).toMatch(/^runner-[0-9a-z]{4}$/);
  });
});
