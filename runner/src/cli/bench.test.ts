// `bench --compare`: the ratios against the PyTorch reference, computed and printed, and the
// real binary measuring a real configuration against a reference file.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchReport, type BenchResult, compareBench, formatComparison } from "./bench";
import { runCli } from "./test-support";

const run = (args: string[], stdin = "") => runCli(["bench", ...args], stdin);

const result = (params: number, train: number, rollout: number): BenchResult => ({
  params,
  ms_per_train_step: 2048_000 / train,
  train_tokens_per_s: train,
  ms_per_rollout: 2048_000 / rollout,
  rollout_tokens_per_s: rollout,
});

// tiny's parameter count as both tools report it.
const TINY_PARAMS = 108_288;
const reference: BenchReport = {
  engine: "torch-1.13.0",
  threads: 2,
  configs: { tiny: result(TINY_PARAMS, 80_000, 40_000), small: result(400_000, 20_000, 14_000) },
};

let directory = "";
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "transcend-bench-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("compareBench", () => {
  it("divides our tokens/s by the reference's, per configuration both measured", () => {
    const ours = { tiny: result(TINY_PARAMS, 60_000, 50_000), base: result(3_000_000, 6_000, 6_000) };
    expect(compareBench(ours, reference)).toEqual([{ config: "tiny", train: 0.75, rollout: 1.25 }]);
  });

  it("flags configurations whose models differ", () => {
    expect(compareBench({ small: result(399_999, 20_000, 14_000) }, reference)).toEqual([
      { config: "small", train: 1, rollout: 1, paramsDiffer: { ours: 399_999, reference: 400_000 } },
    ]);
  });

  it("prints a table with the ratios and says what it could not compare", () => {
    const text = formatComparison({ tiny: result(TINY_PARAMS, 60_000, 50_000), base: result(1, 1, 1) }, reference, "tfjs-wasm");
    expect(text).toContain("tfjs-wasm vs torch-1.13.0 (2 threads)");
    expect(text).toMatch(/tiny\s+60,000\s+80,000\s+0\.75×\s+50,000\s+40,000\s+1\.25×/);
    expect(text).toContain("not in the reference: base");
  });
});

describe("transcend-runner bench --compare", () => {
  it("measures tiny and prints the ratios beside the numbers", async () => {
    const file = join(directory, "torch.json");
    await writeFile(file, JSON.stringify(reference));
    const { code, stdout, stderr } = await run(["--config", "tiny", "--steps", "1", "--backend", "wasm", "--compare", file]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^tiny \{"params":108288,/);
    expect(stdout).toMatch(/large 2048³ matmul: \d+(\.\d)? GFLOP\/s/);
    expect(stdout).toMatch(/tiny train: \d+(\.\d)? GFLOP\/s, \d+\.\d\d of the large matmul/);
    expect(stdout).toMatch(/vs torch-1\.13\.0 \(2 threads\)/);
    expect(stdout).toMatch(/tiny\s+[\d,]+\s+80,000\s+\d+\.\d\d×\s+[\d,]+\s+40,000\s+\d+\.\d\d×/);
  });

  it("adds the ratios to --json output, reading the reference from stdin", async () => {
    const { code, stdout } = await run(["--config", "tiny", "--steps", "1", "--backend", "wasm", "--json", "--compare", "-"], JSON.stringify(reference));
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      engine: string;
      large_matmul_gflops: number;
      configs: Record<string, { train_gflops: number }>;
      reference: { engine: string };
      ratios: { config: string; train: number; rollout: number }[];
    };
    expect(report.engine).toBe("tfjs-wasm");
    expect(report.large_matmul_gflops).toBeGreaterThan(0);
    expect(report.configs.tiny?.train_gflops).toBeGreaterThan(0);
    expect(report.reference.engine).toBe("torch-1.13.0");
    expect(report.ratios).toHaveLength(1);
    expect(report.ratios[0]?.train).toBeGreaterThan(0);
  });

  it("refuses a reference that is not a bench report before measuring", async () => {
    const file = join(directory, "bad.json");
    await writeFile(file, JSON.stringify({ engine: "torch", configs: { tiny: { params: 1 } } }));
    const bad = await run(["--compare", file]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/is not a bench report: threads/);
    const missing = await run(["--compare", join(directory, "nope.json")]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read the reference/);
    expect(missing.stdout).toBe("");
  });
});
