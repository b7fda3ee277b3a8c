// Matmul GFLOP/s of the stock wasm kernels vs ours (wasm SIMD gemm, and OpenBLAS when it loads), for the matmul shapes of the bench
// configurations (../shared/bench/README.md) as the engine issues them, and one large
// square matmul. Run: npx tsx runner/src/kernels/bench-kernels.ts [--reps 20]
//
// Every repetition multiplies by a different copy of the right-hand matrix, as in
// training (XNNPACK caches its packing per tensor, which a benchmark reusing one tensor
// would flatter).
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../backend";
import { installFastKernels, uninstallFastKernels } from "./index";

interface Shape {
  label: string;
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
}

function shapesOf(name: string, c: { batch: number; context: number; d: number; heads: number; vocab: number }): Shape[] {
  const n = c.batch * c.context;
  const f = 4 * c.d;
  const hd = c.d / c.heads;
  const bh = c.batch * c.heads;
  const t = c.context;
  return [
    { label: `${name} x·W qkv/out`, a: [n, c.d], b: [c.d, c.d] },
    { label: `${name} x·W mlp in`, a: [n, c.d], b: [c.d, f] },
    { label: `${name} x·W mlp out`, a: [n, f], b: [f, c.d] },
    { label: `${name} dy·Wᵀ mlp in`, a: [n, f], b: [c.d, f], transposeB: true },
    { label: `${name} xᵀ·dy mlp in`, a: [n, c.d], b: [n, f], transposeA: true },
    { label: `${name} logits x·Eᵀ`, a: [n, c.d], b: [c.vocab, c.d], transposeB: true },
    { label: `${name} att q·kᵀ`, a: [bh, t, hd], b: [bh, t, hd], transposeB: true },
    { label: `${name} att p·v`, a: [bh, t, t], b: [bh, t, hd] },
    { label: `${name} att pᵀ·dy`, a: [bh, t, t], b: [bh, t, hd], transposeA: true },
    { label: `${name} rollout x·W mlp in`, a: [64, c.d], b: [c.d, f] },
  ];
}

const SHAPES: Shape[] = [
  ...shapesOf("tiny", { batch: 32, context: 64, d: 64, heads: 4, vocab: 64 }),
  ...shapesOf("small", { batch: 32, context: 128, d: 128, heads: 4, vocab: 64 }),
  ...shapesOf("base", { batch: 16, context: 128, d: 256, heads: 8, vocab: 64 }),
  { label: "large 1024³", a: [1024, 1024], b: [1024, 1024] },
];

function flops(s: Shape): number {
  const out = tf.tidy(() => tf.matMul(tf.zeros(s.a), tf.zeros(s.b), s.transposeA, s.transposeB));
  const k = s.transposeA ? (s.a.at(-2) ?? 1) : (s.a.at(-1) ?? 1);
  const value = 2 * out.size * k;
  out.dispose();
  return value;
}

function time(s: Shape, reps: number): number {
  const a = tf.randomUniform(s.a, -1, 1, "float32", 1);
  const bs = Array.from({ length: reps + 1 }, (_, i) => tf.randomUniform(s.b, -1, 1, "float32", i + 2));
  const run = (b: tf.Tensor) => {
    const out = tf.matMul(a, b, s.transposeA, s.transposeB);
    out.dataSync(); // wasm runs synchronously; reading 0 bytes more keeps the measure honest
    out.dispose();
  };
  run(bs[reps] ?? a); // warm-up
  const start = performance.now();
  for (let i = 0; i < reps; i++) run(bs[i] ?? a);
  const ms = (performance.now() - start) / reps;
  tf.dispose([a, ...bs]);
  return ms;
}

async function main(): Promise<void> {
  const repsIndex = process.argv.indexOf("--reps");
  const reps = repsIndex > 0 ? Number(process.argv[repsIndex + 1]) : 10;
  await selectBackend("wasm");
  const rows: string[] = [
    "| matmul | shape | stock | ours, wasm SIMD | ours, OpenBLAS | wasm / stock | OpenBLAS / stock |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const s of SHAPES) {
    const work = flops(s);
    const r = s.label.startsWith("large") ? Math.max(2, Math.floor(reps / 4)) : reps;
    uninstallFastKernels();
    const stockMs = time(s, r);
    // Ours on every product (no XNNPACK hand-off), to see the gemm itself.
    await installFastKernels({ nativeBlas: false, preferXnnpackForPlain: false });
    const wasmMs = time(s, r);
    const native = await installFastKernels({ nativeBlas: true });
    const nativeMs = native.matmul.startsWith("openblas") ? time(s, r) : NaN;
    const gf = (ms: number) => (work / ms / 1e6).toFixed(1);
    const shape = `[${s.a.join("×")}]${s.transposeA ? "ᵀ" : ""}·[${s.b.join("×")}]${s.transposeB ? "ᵀ" : ""}`;
    rows.push(
      `| ${s.label} | ${shape} | ${gf(stockMs)} | ${gf(wasmMs)} | ${gf(nativeMs)} | ${(stockMs / wasmMs).toFixed(1)}× | ${(stockMs / nativeMs).toFixed(1)}× |`,
    );
    process.stderr.write(`${rows.at(-1) ?? ""}\n`);
  }
  process.stdout.write(`${rows.join("\n")}\n`);
  uninstallFastKernels();
}

await main();
