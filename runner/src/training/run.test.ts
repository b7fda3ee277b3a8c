// The whole engine end to end on the tiny recipe: reproducible from its seed, and usable
// from the offline CLI.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { recipePresets } from "@transcend/protocol";
import { findPreset } from "@transcend/tasks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunResults, runTrainingJob } from "./job";
import { useTestBackend } from "./test-support";

const VARIANT = "mod-arith-depth-partial";
const runnerBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/transcend-runner.js");
let dir = "";

beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), "transcend-run-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Everything but wall-clock time. */
function metrics(results: RunResults): Omit<RunResults, "timings"> {
  const { timings: _timings, ...rest } = results;
  return rest;
}

describe("a tiny run", () => {
  it("gives identical results twice from one seed, and its pretraining loss falls", async () => {
    const variant = findPreset(VARIANT);
    if (!variant) throw new Error(`no preset ${VARIANT}`);
    const phases: string[] = [];
    const run = (out: string) =>
      runTrainingJob({
        variant,
        recipe: recipePresets.tiny,
        seed: 7,
        backend: "wasm",
        originCacheDir: false,
        checkpointDir: path.join(dir, out),
        onProgress: (event) => {
          if (event.type === "phase-started") phases.push(event.phase);
        },
      });
    const first = await run("a");
    const second = await run("b");
    expect(metrics(second)).toEqual(metrics(first));
    expect(phases).toEqual(["pretraining", "evaluating-base", "grpo", "evaluating-final", "pretraining", "evaluating-base", "grpo", "evaluating-final"]);
    expect(first.pretraining.finalLoss).toBeLessThan(0.7 * first.pretraining.initialLoss);
    expect(first.grpo.history).toHaveLength(recipePresets.tiny.grpo.steps);
    expect(first.checkpoints.origin).toMatch(/^[0-9a-f]{64}$/);
    expect(first.checkpoints.final).toMatch(/^[0-9a-f]{64}$/);
    expect(first.engine.backend).toBe("wasm");
    for (const split of ["id", "ood"]) {
      const result = first.evaluation[split];
      expect(result?.base.items).toBe(16);
      expect(result?.base.scores.every((s) => s.correct >= 0 && s.correct <= 8)).toBe(true);
      expect(result?.comparison.originCeiling).toBe(result?.base.passAtN);
    }
  }, 120_000);

  it("runs from the CLI: train writes results.json, checkpoints and completions; a second run reuses the cached origin", async () => {
    const exec = promisify(execFile);
    const out = path.join(dir, "cli");
    const cache = path.join(dir, "cache");
    const args = [runnerBin, "train", "--variant", VARIANT, "--recipe", "tiny", "--seed", "3", "--out", out, "--cache", cache];
    const { stdout } = await exec(process.execPath, args, { timeout: 120_000 });
    expect(stdout).toMatch(/origin ceiling/);
    expect(stdout).toMatch(/novel solves/);
    const results = JSON.parse(await readFile(path.join(out, "results.json"), "utf8")) as RunResults;
    expect(results.seed).toBe(3);
    expect(results.origin.reused).toBe(false);
    expect(await readdir(path.join(out, "checkpoints"))).toContain(`${results.checkpoints.final}.safetensors`);
    expect(await readdir(path.join(out, "completions"))).toEqual(["base-id.json", "base-ood.json", "final-id.json", "final-ood.json"]);

    const again = await exec(process.execPath, [...args, "--json"], { timeout: 120_000 });
    const reused = JSON.parse(again.stdout) as RunResults;
    expect(reused.origin.reused).toBe(true);
    expect(reused.checkpoints.origin).toBe(results.checkpoints.origin);
    expect(reused.pretraining).toEqual(results.pretraining);
  }, 240_000);
});
