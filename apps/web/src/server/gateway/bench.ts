// `npm run bench:gateway [-- --runners 500 --runs 500 --heartbeat-ms 10000]`: N simulated
// runners connect to one server on loopback, say hello, heartbeat, and wait ready; then
// runs are queued and each is claimed and assigned. Prints connect time, assign latency
// (run queued → assign frame at the runner) p50/p95/p99, and the server process's memory
// idle with N runners connected and after the burst. The server runs in its own process
// (bench-server.ts) on PGlite in a temp dir, or on DATABASE_URL when set.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BenchReply, BenchRequest } from "./bench-server";
import { SimRunner } from "./sim-runner";

const { values } = parseArgs({
  options: {
    runners: { type: "string", default: "500" },
    runs: { type: "string" },
    submitters: { type: "string", default: "20" },
    "heartbeat-ms": { type: "string", default: "10000" },
  },
});
const RUNNERS = Number(values.runners);
const RUNS = Number(values.runs ?? values.runners);
const SUBMITTERS = Number(values.submitters);
const HEARTBEAT_MS = Number(values["heartbeat-ms"]);
for (const [name, value] of Object.entries({ runners: RUNNERS, runs: RUNS, submitters: SUBMITTERS, "heartbeat-ms": HEARTBEAT_MS })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
}

function request<T extends BenchReply["type"]>(child: ChildProcess, message: BenchRequest | undefined, type: T): Promise<Extract<BenchReply, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (reply: BenchReply) => {
      if (reply.type !== type) return;
      child.off("message", onMessage);
      resolve(reply as Extract<BenchReply, { type: T }>);
    };
    child.on("message", onMessage);
    if (message) child.send(message);
  });
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function main(): Promise<void> {
  const serverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "bench-server.ts");
  // All simulated runners share one loopback address: the per-address handshake limit is lifted.
  const env = { ...process.env, BENCH_HEARTBEAT_MS: String(HEARTBEAT_MS), TRANSCEND_RATE_LIMIT_RUNNER_HANDSHAKE: "off" };
  const child = fork(serverScript, [], { execArgv: ["--import", "tsx"], env });
  process.on("exit", () => child.kill());
  child.on("exit", (code) => {
    if (code !== 0) console.error(`bench server exited with ${code}`);
  });
  const started = await request(child, undefined, "started");
  console.log(`server ${started.url} on ${started.database}; ${RUNNERS} runners, ${RUNS} runs from ${SUBMITTERS} submitters, heartbeat every ${HEARTBEAT_MS} ms`);
  const { credentials } = await request(child, { type: "setup", runners: RUNNERS, submitters: SUBMITTERS }, "setup");
  const baseline = await request(child, { type: "memory" }, "memory");

  const connectStart = Date.now();
  const runners: SimRunner[] = [];
  for (let start = 0; start < credentials.length; start += 50) {
    runners.push(...(await Promise.all(credentials.slice(start, start + 50).map((credential, i) => SimRunner.start(started.url, credential, { name: `bench-${start + i}` })))));
  }
  const connectMs = Date.now() - connectStart;
  const assignedAt = new Map<string, number>();
  const attempts = new Map<SimRunner, { runId: string; attempt: number }[]>();
  for (const runner of runners) {
    attempts.set(runner, []);
    runner.socket.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString("utf8")) as { type: string; runId?: string; attempt?: number };
      if (frame.type !== "assign" || !frame.runId || !frame.attempt) return;
      assignedAt.set(frame.runId, Date.now());
      attempts.get(runner)?.push({ runId: frame.runId, attempt: frame.attempt });
      runner.send({ type: "accepted", runId: frame.runId, attempt: frame.attempt });
      runner.send({ type: "ready", slots: 1 });
    });
  }
  const stopHeartbeats = runners.map((runner) => runner.heartbeat(() => attempts.get(runner) ?? [], HEARTBEAT_MS));
  for (const runner of runners) runner.send({ type: "ready", slots: 1 });
  // Let the connections settle into their heartbeat rhythm before measuring idle memory.
  await new Promise((resolve) => setTimeout(resolve, Math.min(HEARTBEAT_MS * 2, 5_000)));
  const idle = await request(child, { type: "memory" }, "memory");

  const queued = await request(child, { type: "queue", count: RUNS }, "queued");
  const deadline = Date.now() + 10 * 60_000;
  while (assignedAt.size < RUNS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const busy = await request(child, { type: "memory" }, "memory");
  const latencies = [...assignedAt.values()].map((at) => at - queued.at).sort((a, b) => a - b);

  console.log(`connected ${runners.length} runners in ${connectMs} ms (${(connectMs / runners.length).toFixed(1)} ms each, handshake included)`);
  console.log(`assigned ${latencies.length} of ${RUNS} runs; assign latency from queueing: p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms`);
  console.log(`throughput: ${(latencies.length / (((latencies.at(-1) ?? 1) || 1) / 1000)).toFixed(0)} assigns/s`);
  // RSS includes PGlite's wasm memory, which grows and shrinks on its own; the JS heap is what sockets cost.
  console.log(`server memory: rss ${mib(baseline.rss)} before runners, ${mib(idle.rss)} with ${RUNNERS} idle runners, ${mib(busy.rss)} after the burst`);
  console.log(`server JS heap: ${mib(baseline.heapUsed)} before runners, ${mib(idle.heapUsed)} with ${RUNNERS} idle runners (${((idle.heapUsed - baseline.heapUsed) / 1024 / RUNNERS).toFixed(1)} KiB each), ${mib(busy.heapUsed)} after the burst`);

  for (const stop of stopHeartbeats) stop();
  await Promise.all(runners.map((runner) => runner.close()));
  await request(child, { type: "stop" }, "stopped");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
