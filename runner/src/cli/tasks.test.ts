// The tasks command as a user meets it: the real binary in a child process.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support";

const run = (args: string[], stdin = "") => runCli(["tasks", ...args], stdin);

let directory = "";
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "transcend-tasks-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("transcend-runner tasks", () => {
  it("lists the presets as JSON", async () => {
    const { code, stdout } = await run(["list", "--json"]);
    expect(code).toBe(0);
    const listing = JSON.parse(stdout) as { slug: string; family: string; splits: { name: string; axis: string }[] }[];
    expect(listing).toHaveLength(24);
    expect(listing).toContainEqual({
      slug: "string-ops-depth-zero",
      family: "string-ops",
      splits: [
        { name: "id", axis: "id" },
        { name: "ood", axis: "depth" },
      ],
    });
  });

  it("samples deterministically and its output verifies with reward 1", async () => {
    const args = ["sample", "--variant", "graph-path-depth-partial", "--split", "ood", "--n", "20", "--seed", "7", "--json"];
    const [first, second] = await Promise.all([run(args), run(args)]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(second.stdout);
    const items = first.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, string>);
    expect(items).toHaveLength(20);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(["answer", "completion", "prompt"]);
      expect(item.prompt?.startsWith("<bos> ")).toBe(true);
      expect(item.completion?.endsWith(`<answer> ${item.answer} <eos>`)).toBe(true);
    }
    const other = await run([...args.slice(0, -3), "8", "--json"]);
    expect(other.stdout).not.toBe(first.stdout);

    const verified = await run(["verify", "--variant", "graph-path-depth-partial", "--split", "ood"], first.stdout);
    expect(verified.code).toBe(0);
    expect(verified.stdout.trim().split("\n")).toEqual(Array.from({ length: 20 }, () => "1"));
  });

  it("scores wrong, garbled and format-only completions", async () => {
    const lines = [
      { prompt: "<bos> a b c | rev", completion: "<think> c b a <answer> c b a <eos>" },
      { prompt: "<bos> a b c | rev", completion: "<think> c b a <answer> c b a a <eos>" },
      { prompt: "<bos> a b c | rev", completion: "<think> c b a <eos>" },
      { prompt: ["<bos>", "a", "b", "c", "|", "rev"], completion: ["<think>", "<answer>", "a", "b", "c", "<eos>"] },
    ];
    const input = lines.map((line) => JSON.stringify(line)).join("\n") + "\n";
    const plain = await run(["verify", "--variant", "string-ops-depth-zero"], input);
    expect(plain.stdout.trim().split("\n")).toEqual(["1", "0", "0", "0"]);
    const shaped = await run(["verify", "--variant", "string-ops-depth-zero", "--format-reward", "0.1", "--json"], input);
    expect(shaped.stdout.trim().split("\n").map((line) => JSON.parse(line))).toEqual([
      { reward: 1 },
      { reward: 0.1 },
      { reward: 0 },
      { reward: 0.1 },
    ]);
  });

  it("reads a variant from a JSON file", async () => {
    const file = join(directory, "variant.json");
    const variant = {
      slug: "tiny-arith",
      name: "Tiny arithmetic",
      family: "mod-arith",
      splits: [
        {
          name: "id",
          axis: "id",
          params: { depth: { min: 1, max: 2 }, operandDigits: { min: 1, max: 1 }, tokenSet: "A", modulus: 5, operators: ["+"], operatorMixing: "any" },
        },
        {
          name: "letters",
          axis: "representation",
          params: { depth: { min: 1, max: 2 }, operandDigits: { min: 1, max: 1 }, tokenSet: "B", modulus: 5, operators: ["+"], operatorMixing: "any" },
        },
      ],
      pretrainingMix: { id: 1 },
      grpoMix: { letters: 1 },
      evalSplits: ["letters"],
    };
    await writeFile(file, JSON.stringify(variant));
    const { code, stdout } = await run(["sample", "--variant", file, "--split", "letters", "--n", "3"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# tiny-arith · split letters \(representation\) · seed 0\n/);
    expect(stdout).toMatch(/% f\n {4}→ <think>/);
  });

  it("refuses bad variant files with one message per problem and its field path", async () => {
    const notJson = join(directory, "broken.json");
    await writeFile(notJson, "{ not json");
    const broken = await run(["sample", "--variant", notJson, "--split", "id"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^transcend-runner: variant file .*broken\.json is not valid JSON/);

    const unknownFamily = join(directory, "family.json");
    await writeFile(unknownFamily, JSON.stringify({ slug: "x-y", family: "chess" }));
    const family = await run(["sample", "--variant", unknownFamily, "--split", "id"]);
    expect(family.code).toBe(1);
    expect(family.stderr).toContain('family: unknown task family; expected one of "string-ops", "graph-path", "mod-arith"');

    const outOfRange = join(directory, "range.json");
    const params = { pathLength: { min: 2, max: 30 }, distractorEdges: { min: -1, max: 4 }, tokenSet: "A", route: "free" };
    await writeFile(
      outOfRange,
      JSON.stringify({
        slug: "graphs",
        name: "Graphs",
        family: "graph-path",
        splits: [
          { name: "id", axis: "id", params },
          { name: "ood", axis: "representation", params: { ...params, tokenSet: "A" } },
        ],
        pretrainingMix: { id: 1 },
        grpoMix: { idd: 1 },
        evalSplits: ["ood"],
      }),
    );
    const range = await run(["sample", "--variant", outOfRange, "--split", "id"]);
    expect(range.code).toBe(1);
    const problems = range.stderr.split("\n").slice(1).map((line) => line.trim()).filter(Boolean);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^splits\.0\.params\.pathLength\.max: /),
        expect.stringMatching(/^splits\.0\.params\.distractorEdges\.min: /),
        expect.stringMatching(/^splits\.1\.params\.pathLength\.max: /),
        expect.stringMatching(/^splits\.1\.params\.tokenSet: a representation split must differ from id/),
        'grpoMix.idd: "idd" is not a split of this variant',
      ]),
    );
    expect(range.stderr).not.toMatch(/\n\s+at /); // a user error, not a stack trace
  });

  it("refuses unknown presets, unknown splits and malformed verify input", async () => {
    const preset = await run(["sample", "--variant", "no-such-variant", "--split", "id"]);
    expect(preset.code).toBe(1);
    expect(preset.stderr).toContain('unknown task variant "no-such-variant"');

    const split = await run(["sample", "--variant", "mod-arith-depth-zero", "--split", "nope"]);
    expect(split.code).toBe(1);
    expect(split.stderr).toContain('has no split "nope"; its splits are id, ood');

    const input = ['{"prompt": "<bos> 1 + 2 % 7", "completion": "<answer> 3 <eos>"}', "not json", '{"prompt": "<bos> 1 + x % 7"}', ""].join("\n");
    const verify = await run(["verify", "--variant", "mod-arith-depth-zero"], input);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toBe("");
    expect(verify.stderr).toContain("line 2: not valid JSON");
    expect(verify.stderr).toContain("line 3.prompt: tokens not in the mod-arith vocabulary: x");
    expect(verify.stderr).toContain("line 3.completion: expected a space-separated token string or an array of tokens");

    const count = await run(["sample", "--variant", "mod-arith-depth-zero", "--split", "id", "--n", "0"]);
    expect(count.code).not.toBe(0);
    expect(count.stderr).toContain("expected an integer from 1 to 100000");
  });
});
