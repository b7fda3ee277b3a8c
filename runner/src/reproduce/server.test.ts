// `reproduce --server` against an HTTP server on loopback that answers the few tRPC
// procedures the client calls, in the real server's wire format (superjson `{json: …}`
// envelopes, tRPC error bodies, JSON lines of per-item outcomes), with canned run states.
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunResults } from "../training/job";
import { reproduce } from ".";
import { SERVER_RUNS_FILE } from "./server";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface FakeRun {
  id: string;
  variant: string;
  seed: number;
  /** States answered by successive runs.get calls; the last one stays. */
  states: string[];
}

/** A stand-in for the server's HTTP surface: records each call, answers like apps/web does. */
async function fakeServer(planStates: (variant: string, seed: number) => string[]) {
  const calls: { method: string; procedure: string; input: unknown; auth: string | undefined }[] = [];
  const runs = new Map<string, FakeRun>();
  const recipes = new Map<string, unknown>();
  const ok = (res: ServerResponse, json: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ result: { data: { json } } }));
  };
  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { json: { message, code: -32004, data: { code, httpStatus: status, path: "x" } } } }));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const auth = req.headers.authorization;
      const items = /^\/api\/runs\/([0-9a-f-]+)\/items$/.exec(url.pathname);
      if (items) {
        const run = runs.get(items[1] ?? "");
        calls.push({ method: "GET", procedure: "items", input: items[1], auth });
        if (!run) return fail(res, 404, "NOT_FOUND", "not graded");
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        // Two splits, three items each, n = 4: base solves item 0 greedily; GRPO also solves item 1 (a novel solve).
        const lines = ["id", "ood"].flatMap((split) =>
          [0, 1, 2].map((i) =>
            JSON.stringify({
              runId: run.id,
              attempt: 1,
              split,
              axis: split === "id" ? null : "depth",
              item: `${split}-${i}`,
              n: 4,
              base: { greedyCorrect: i === 0, correct: i === 0 ? 4 : 0 },
              grpo: { greedyCorrect: i <= 1, correct: i === 0 ? 4 : i === 1 ? 2 : 0 },
            }),
          ),
        );
        res.end(`${lines.join("\n")}\n`);
        return;
      }
      const procedure = url.pathname.replace(/^\/api\/trpc\//, "");
      const input = (req.method === "GET" ? JSON.parse(url.searchParams.get("input") ?? "{}") : JSON.parse(body || "{}")) as { json: Record<string, unknown> };
      calls.push({ method: req.method ?? "", procedure, input: input.json, auth });
      if (auth !== "Bearer tpat_test") return fail(res, 401, "UNAUTHORIZED", "Sign in first.");
      switch (procedure) {
        case "recipes.get": {
          const slug = String(input.json.slug);
          return recipes.has(slug) ? ok(res, { slug, spec: recipes.get(slug) }) : fail(res, 404, "NOT_FOUND", `There is no recipe called ${slug}.`);
        }
        case "recipes.create": {
          const spec = input.json.spec as { slug: string };
          recipes.set(spec.slug, spec);
          return ok(res, { id: randomUUID(), slug: spec.slug, version: 1 });
        }
        case "runs.submit": {
          const variant = (input.json.variant as { slug: string }).slug;
          const seeds = input.json.seeds as number[];
          const created = seeds.map((seed) => {
            const run = { id: randomUUID(), variant, seed, states: planStates(variant, seed) };
            runs.set(run.id, run);
            return { id: run.id, seed };
          });
          return ok(res, { runs: created, queuePosition: 1, etaSeconds: null, etaBasis: "nothing to go on", quotaRemaining: 40 });
        }
        case "runs.get": {
          const run = runs.get(String(input.json.runId));
          if (!run) return fail(res, 404, "NOT_FOUND", "There is no such run.");
          const state = run.states.length > 1 ? (run.states.shift() ?? "queued") : (run.states[0] ?? "queued");
          return ok(res, { id: run.id, state, seed: run.seed, isMine: true });
        }
        default:
          return fail(res, 404, "NOT_FOUND", `No procedure ${procedure}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, runs, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("reproduce --server", () => {
  it("submits each preset × seed once, waits, reports the server's numbers, and resumes without resubmitting", async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), "reproduce-server-"));
    dirs.push(outDir);
    const presets = ["mod-arith-depth-zero", "mod-arith-length-partial"];
    const fake = await fakeServer((variant, seed) =>
      variant === "mod-arith-length-partial" && seed === 2 ? ["queued", "failed"] : ["queued", "assigned", "pretraining", "grpo", "graded"],
    );
    try {
      const lines: string[] = [];
      const options = {
        outDir,
        scale: "ci" as const,
        seeds: 2,
        presets,
        log: (line: string) => lines.push(line),
        server: { url: fake.url, token: "tpat_test", pollMs: 5 },
      };
      const outcome = await reproduce(options);

      expect(fake.calls.every((c) => c.auth === "Bearer tpat_test")).toBe(true);
      const submits = fake.calls.filter((c) => c.procedure === "runs.submit");
      expect(submits).toHaveLength(2);
      expect(submits.map((c) => c.method)).toEqual(["POST", "POST"]);
      expect(fake.calls.filter((c) => c.procedure === "recipes.create")).toHaveLength(1);
      expect(outcome.execution.ran).toBe(3);
      expect(outcome.execution.failed).toEqual([expect.objectContaining({ slug: "mod-arith-length-partial", seed: 2 })]);
      expect(lines.some((l) => /mod-arith-depth-zero seed 1 · pretraining \(run [0-9a-f-]+\) · \d\/4 done/.test(l))).toBe(true);
      expect(lines.some((l) => /mod-arith-length-partial seed 2 · failed \(run [0-9a-f-]+\) · \d\/4 done/.test(l))).toBe(true);
      expect(lines.filter((l) => / · \d\/4 done$/.test(l)).at(-1)).toMatch(/4\/4 done$/);

      // The server's per-item outcomes, regrouped: 1 of 3 greedy base → 2 of 3 after GRPO, one novel solve.
      const results = JSON.parse(await readFile(path.join(outDir, "runs", "mod-arith-depth-zero", "1", "results.json"), "utf8")) as RunResults;
      const [split] = Object.keys(results.evaluation);
      const evaluation = results.evaluation[split ?? ""];
      expect(evaluation?.base.greedyAccuracy).toBeCloseTo(1 / 3);
      expect(evaluation?.final.greedyAccuracy).toBeCloseTo(2 / 3);
      expect(evaluation?.final.meanCorrectMass).toBeCloseTo((1 + 0.5) / 3);
      expect(evaluation?.comparison.novelSolves).toBe(1);
      expect(outcome.summary.runsFinished).toBe(3);
      expect(outcome.summary.missing).toEqual([{ slug: "mod-arith-length-partial", seed: 2 }]);
      expect(await readFile(path.join(outDir, "report.md"), "utf8")).toContain("mod-arith-depth-zero");

      // A second call: nothing resubmitted, graded runs skipped, the failed run reported again.
      const mapping = JSON.parse(await readFile(path.join(outDir, SERVER_RUNS_FILE), "utf8")) as { runs: Record<string, string> };
      expect(Object.keys(mapping.runs)).toHaveLength(4);
      fake.calls.length = 0;
      lines.length = 0;
      const again = await reproduce(options);
      expect(fake.calls.filter((c) => c.procedure === "runs.submit" || c.procedure.startsWith("recipes."))).toEqual([]);
      expect(lines.filter((l) => l.includes("graded earlier, skipped"))).toHaveLength(3);
      expect(again.execution.failed).toHaveLength(1);
      expect(again.summary.runsFinished).toBe(3);
    } finally {
      await fake.close();
    }
  }, 60_000);

  it("says what the server refused, in its words", async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), "reproduce-server-"));
    dirs.push(outDir);
    const fake = await fakeServer(() => ["graded"]);
    try {
      await expect(
        reproduce({ outDir, scale: "ci", seeds: 1, presets: ["mod-arith-depth-zero"], log: () => {}, server: { url: fake.url, token: "wrong", pollMs: 5 } }),
      ).rejects.toThrow(/recipes.get failed \(HTTP 401 UNAUTHORIZED\): Sign in first/);
    } finally {
      await fake.close();
    }
  });
});
