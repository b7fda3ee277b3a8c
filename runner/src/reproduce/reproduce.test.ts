import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { meanWithCI } from "@transcend/tasks";
import { afterAll, describe, expect, it, vi } from "vitest";
import { buildProgram } from "../cli";
import type { RunResults } from "../training/job";
import { reproduce } from ".";
import { formatGain } from "./claims";
import { pct, type StudySummary } from "./report";
import { studyPresets } from "./study";

// The whole ci scale (8 task variants) over 2 seeds: every phase of every run, the report and
// its figures, in about a minute on a loaded 2-core machine.
const SEEDS = 2;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("transcend-runner reproduce --scale ci", () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "transcend-reproduce-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("runs every preset, writes a report whose numbers are the runs' results, and resumes", async () => {
    const out = await tempDir();
    const lines: string[] = [];
    const options = { outDir: out, scale: "ci" as const, seeds: SEEDS, originCacheDir: false as const, log: (line: string) => lines.push(line) };
    const first = await reproduce(options);
    const presets = studyPresets();
    expect(first.execution).toMatchObject({ ran: presets.length * SEEDS, skipped: 0, failed: [] });

    // Progress: each run ends on one line with its time, the running total and the study's ETA.
    for (const [i, preset] of presets.entries())
      expect(lines.some((l) => l.includes(`${preset.slug} seed 1 · done in`) && l.includes(`${i + 1}/${presets.length * SEEDS} done, study ETA`))).toBe(true);

    // The numbers: recomputed here from the results.json files and compared with summary.json and report.md.
    const results = new Map<string, RunResults>();
    for (const preset of presets)
      for (let seed = 1; seed <= SEEDS; seed++)
        results.set(`${preset.slug}/${seed}`, JSON.parse(await readFile(path.join(out, "runs", preset.slug, String(seed), "results.json"), "utf8")) as RunResults);
    const summary = JSON.parse(await readFile(path.join(out, "summary.json"), "utf8")) as StudySummary;
    const report = await readFile(path.join(out, "report.md"), "utf8");
    expect(summary.runsFinished).toBe(presets.length * SEEDS);
    expect(summary.missing).toEqual([]);
    expect(summary.aggregates).toHaveLength(presets.length * 2);
    for (const aggregate of summary.aggregates) {
      const perSeed = [1, 2].map((seed) => results.get(`${aggregate.slug}/${seed}`)?.evaluation[aggregate.split]);
      const base = perSeed.map((r) => r?.base.greedyAccuracy ?? Number.NaN);
      const final = perSeed.map((r) => r?.final.greedyAccuracy ?? Number.NaN);
      const novel = perSeed.map((r) => r?.comparison.novelSolves ?? Number.NaN);
      expect(aggregate.base.greedyAccuracy).toEqual(meanWithCI(base));
      expect(aggregate.final.greedyAccuracy).toEqual(meanWithCI(final));
      expect(aggregate.novelSolves).toEqual(meanWithCI(novel));
      expect(aggregate.gain.greedyAccuracy.mean).toBeCloseTo(meanWithCI(final).mean - meanWithCI(base).mean, 12);
      expect(report).toContain(formatGain(aggregate.gain.greedyAccuracy));
    }
    for (const [key, r] of results) {
      const [slug, seed] = key.split("/");
      for (const [split, s] of Object.entries(r.evaluation))
        expect(report).toContain(`| ${slug} | ${seed} | ${split} | ${pct(s.base.greedyAccuracy)} | ${pct(s.final.greedyAccuracy)} |`);
    }
    expect(summary.claims.map((c) => c.id)).toEqual(["a", "b", "c", "d", "e"]);
    for (const claim of summary.claims) expect(report).toContain(`(${claim.id}) ${claim.claim} | **${claim.verdict}**`);

    // Figures: a PNG and an SVG each, linked from the report.
    for (const name of ["accuracy", "saturation", "correct-mass", "novel-solves"]) {
      const png = await readFile(path.join(out, `${name}.png`));
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(await readFile(path.join(out, `${name}.svg`), "utf8")).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(report).toContain(`](${name}.png)`);
    }

    // Resume: a second call runs nothing and leaves every results.json as it was.
    const someRun = path.join(out, "runs", presets[0]?.slug ?? "", "1", "results.json");
    const before = (await stat(someRun)).mtimeMs;
    lines.length = 0;
    const second = await reproduce(options);
    expect(second.execution).toMatchObject({ ran: 0, skipped: presets.length * SEEDS });
    expect((await stat(someRun)).mtimeMs).toBe(before);
    expect(lines.filter((l) => l.includes("finished earlier, skipped"))).toHaveLength(presets.length * SEEDS);
    expect(second.summary.aggregates).toEqual(summary.aggregates);

    // A damaged results.json is not a finished run: only that run is done again.
    await writeFile(someRun, '{"format": "transcend-results/1", "trunc');
    const third = await reproduce(options);
    expect(third.execution).toMatchObject({ ran: 1, skipped: presets.length * SEEDS - 1 });
    // Seeded end to end: the redone run gives the same numbers.
    const redone = JSON.parse(await readFile(someRun, "utf8")) as RunResults;
    expect(redone.evaluation).toEqual(results.get(`${presets[0]?.slug}/1`)?.evaluation);

    // The same directory with another recipe is refused, not mixed into one report.
    await expect(reproduce({ ...options, scale: "cpu" })).rejects.toThrow(/another recipe/);
  }, 600_000);

  it("writes a partial report, labelled as such, from the runs finished so far", async () => {
    const out = await tempDir();
    const slug = "mod-arith-length-zero";
    await reproduce({ outDir: out, scale: "ci", seeds: 1, presets: [slug], originCacheDir: false, log: () => {} });
    const partial = await reproduce({ outDir: out, scale: "ci", seeds: 2, presets: [slug], reportOnly: true, log: () => {} });
    expect(partial.execution.ran).toBe(0);
    expect(partial.summary.missing).toEqual([{ slug, seed: 2 }]);
    const report = await readFile(path.join(out, "report.md"), "utf8");
    expect(report).toContain("**Partial study**: 1 of 2 runs finished");
  }, 300_000);

  it("runs several at once in child processes, with the same numbers as in this process", async () => {
    const [inProcess, inChildren] = [await tempDir(), await tempDir()];
    const presets = ["mod-arith-depth-zero", "mod-arith-composition-partial"];
    await reproduce({ outDir: inProcess, scale: "ci", seeds: 1, presets: presets.slice(0, 1), originCacheDir: false, log: () => {} });
    const lines: string[] = [];
    const outcome = await reproduce({ outDir: inChildren, scale: "ci", seeds: 1, presets, parallel: 2, originCacheDir: false, log: (l) => lines.push(l) });
    expect(outcome.execution).toMatchObject({ ran: 2, failed: [] });
    expect(lines.filter((l) => l.includes("· pretraining ·"))).toHaveLength(2);
    const read = async (dir: string) => JSON.parse(await readFile(path.join(dir, "runs", "mod-arith-depth-zero", "1", "results.json"), "utf8")) as RunResults;
    expect((await read(inChildren)).evaluation).toEqual((await read(inProcess)).evaluation);
  }, 300_000);

  it("refuses --server without a token and bad options, with one clear line", async () => {
    const out = await tempDir();
    const run = (...args: string[]) => buildProgram().exitOverride().configureOutput({ writeErr: () => {} }).parseAsync(["node", "transcend-runner", "reproduce", "--out", out, ...args]);
    vi.stubEnv("TRANSCEND_TOKEN", "");
    await expect(run("--server", "http://127.0.0.1:1")).rejects.toThrow(/--server needs a personal access token/);
    vi.unstubAllEnvs();
    await expect(run("--server", "ftp://host", "--token", "t")).rejects.toThrow(/--server must be an http\(s\) URL/);
    await expect(run("--token", "t")).rejects.toThrow(/--token only applies with --server/);
    await expect(run("--scale", "tpu")).rejects.toThrow(/--scale must be one of ci, cpu, gpu/);
    await expect(run("--seeds", "0")).rejects.toThrow(/--seeds must be an integer/);
    await expect(run("--family", "chess")).rejects.toThrow(/--family must be one of/);
    await expect(run("--parallel", "0")).rejects.toThrow(/--parallel must be an integer/);
    await expect(run("--scale", "ci", "--presets", "mod-arith-depth-nine")).rejects.toThrow(/is not a preset of the study/);
  });
});
