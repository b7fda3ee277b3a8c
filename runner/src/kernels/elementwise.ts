// Overrides for stock wasm kernels that a training step spends much time in although
// they do little arithmetic (profile-step.ts): Pow (std::pow per element, for GELU's x³),
// Tanh, Sum over leading axes (the stock kernel transposes first), Transpose, GatherV2. Each takes
// the common float32 case and hands anything else to the stock kernel.
import * as tf from "@tensorflow/tfjs";
import { exported, instantiateKernels } from "./module";
import { addressOf, type WasmBackend } from "./wasm-backend";

type KernelFunc = tf.KernelConfig["kernelFunc"];
type Fallback = (args: Parameters<KernelFunc>[0]) => ReturnType<KernelFunc>;

const FILE = "elementwise.wasm";

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/**
 * Transpose of `shape` by `perm` reduced to at most the fewest axes: size-1 axes dropped,
 * input axes that stay neighbours merged. Exported for tests.
 */
export function collapseTranspose(shape: readonly number[], perm: readonly number[]): { dims: number[]; perm: number[] } {
  const kept = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const rank = new Map(kept.map((axis, r) => [axis, r]));
  const p = perm.filter((axis) => rank.has(axis)).map((axis) => rank.get(axis) ?? 0);
  // Runs of consecutive input axes in output order become one axis.
  const groups: number[][] = [];
  for (const axis of p) {
    const last = groups.at(-1);
    if (last && last.at(-1) === axis - 1) last.push(axis);
    else groups.push([axis]);
  }
  const byInput = [...groups].sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  const dims = byInput.map((g) => size(g.map((r) => shape[kept[r] ?? 0] ?? 1)));
  return { dims, perm: groups.map((g) => byInput.indexOf(g)) };
}

export async function elementwiseKernels(backend: WasmBackend, fallback: (name: string) => Fallback): Promise<Array<[string, KernelFunc]>> {
  const exports = await instantiateKernels(backend, FILE);
  const powInt = exported<(x: number, out: number, n: number, e: number) => void>(exports, "pow_int", FILE);
  const tanh = exported<(x: number, out: number, n: number) => void>(exports, "tanh_f32", FILE);
  const sumReduce = exported<(x: number, out: number, outer: number, red: number, inner: number) => void>(exports, "sum_reduce", FILE);
  const transpose4 = exported<(x: number, out: number, ...dimsAndPerm: number[]) => void>(exports, "transpose4", FILE);
  const gatherRows = exported<(x: number, idx: number, out: number, outer: number, dim: number, inner: number, n: number) => number>(exports, "gather_rows", FILE);
  const scalarValue = (t: tf.TensorInfo) => new Float32Array(backend.wasm.asm.memory.buffer, addressOf(backend, t), 1)[0];

  const pow: KernelFunc = (args) => {
    const { a, b } = args.inputs;
    if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32" || size(b.shape) !== 1 || b.shape.length > a.shape.length)
      return fallback(tf.Pow)(args);
    const e = scalarValue(b);
    if (e !== 2 && e !== 3 && e !== 4) return fallback(tf.Pow)(args);
    const out = backend.makeOutput([...a.shape], "float32");
    powInt(addressOf(backend, a), addressOf(backend, out), size(a.shape), e);
    return out;
  };

  const tanhKernel: KernelFunc = (args) => {
    const { x } = args.inputs;
    if (!x || x.dtype !== "float32") return fallback(tf.Tanh)(args);
    const out = backend.makeOutput([...x.shape], "float32");
    tanh(addressOf(backend, x), addressOf(backend, out), size(x.shape));
    return out;
  };

  const sum: KernelFunc = (args) => {
    const { x } = args.inputs;
    const attrs = args.attrs ?? {};
    if (!x || x.dtype !== "float32") return fallback(tf.Sum)(args);
    const rank = x.shape.length;
    const rawAxes = attrs.axis;
    const list = typeof rawAxes === "number" ? [rawAxes] : Array.isArray(rawAxes) ? rawAxes.filter((v): v is number => typeof v === "number") : [];
    const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    const first = axes[0];
    const last = axes.at(-1);
    // One contiguous block of axes: x is [outer, reduced, inner].
    if (first === undefined || last === undefined || last - first + 1 !== axes.length || first < 0 || last >= rank)
      return fallback(tf.Sum)(args);
    const outer = size(x.shape.slice(0, first));
    const red = size(x.shape.slice(first, last + 1));
    const inner = size(x.shape.slice(last + 1));
    const outShape = attrs.keepDims === true ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    const out = backend.makeOutput(outShape, "float32");
    sumReduce(addressOf(backend, x), addressOf(backend, out), outer, red, inner);
    return out;
  };

  const transpose: KernelFunc = (args) => {
    const { x } = args.inputs;
    const perm = args.attrs?.perm;
    if (!x || (x.dtype !== "float32" && x.dtype !== "int32") || !Array.isArray(perm)) return fallback(tf.Transpose)(args);
    const p = perm.filter((v): v is number => typeof v === "number");
    if (p.length !== x.shape.length) return fallback(tf.Transpose)(args);
    const collapsed = collapseTranspose(x.shape, p);
    if (collapsed.dims.length > 4) return fallback(tf.Transpose)(args);
    const out = backend.makeOutput(
      p.map((axis) => x.shape[axis] ?? 1),
      x.dtype,
    );
    if (size(x.shape) === 0) return out;
    const pad = 4 - collapsed.dims.length;
    const dims = [...new Array<number>(pad).fill(1), ...collapsed.dims];
    const fullPerm = [...Array.from({ length: pad }, (_, i) => i), ...collapsed.perm.map((axis) => axis + pad)];
    transpose4(addressOf(backend, x), addressOf(backend, out), ...dims, ...fullPerm);
    return out;
  };

  // Embedding lookups: the stock GatherV2 took ~0.2 ms for 64 rows of 64 floats.
  const gather: KernelFunc = (args) => {
    const { x, indices } = args.inputs;
    const attrs = args.attrs ?? {};
    const batchDims = typeof attrs.batchDims === "number" ? attrs.batchDims : 0;
    const rawAxis = typeof attrs.axis === "number" ? attrs.axis : 0;
    if (!x || !indices || (x.dtype !== "float32" && x.dtype !== "int32") || indices.dtype !== "int32" || batchDims !== 0)
      return fallback(tf.GatherV2)(args);
    const axis = rawAxis < 0 ? rawAxis + x.shape.length : rawAxis;
    if (axis < 0 || axis >= x.shape.length) return fallback(tf.GatherV2)(args);
    const n = size(indices.shape);
    const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    if (n === 0 || size(x.shape) === 0) return out;
    const bad = gatherRows(addressOf(backend, x), addressOf(backend, indices), addressOf(backend, out), size(x.shape.slice(0, axis)), x.shape[axis] ?? 1, size(x.shape.slice(axis + 1)), n);
    if (bad === 0) return out;
    backend.disposeData(out.dataId);
    return fallback(tf.GatherV2)(args);
  };

  return [
    [tf.GatherV2, gather],
    [tf.Pow, pow],
    [tf.Tanh, tanhKernel],
    [tf.Sum, sum],
    [tf.Transpose, transpose],
  ];
}
