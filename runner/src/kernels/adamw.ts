// AdamW with global-norm gradient clipping for all of a model's weights as one kernel
// call. The composite update is ~15 tfjs ops per weight plus 3 for the norm: for the tiny
// bench model that is two thirds of a training step's ~900 ops.
import * as tf from "@tensorflow/tfjs";
import { exported, instantiateKernels } from "./module";
import { addressOf, type WasmBackend } from "./wasm-backend";

type KernelFunc = tf.KernelConfig["kernelFunc"];
export const ADAMW_KERNEL = "TranscendAdamW";
const FILE = "fused.wasm";

export interface FusedAdamWSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Which weights are decayed (matrices, as nanoGPT), aligned with `params`. */
  decays: boolean[];
  /** This update's number, from 1 (bias corrections). */
  step: number;
  /** Clip the gradients' global L2 norm to this; 0 leaves them as they are. */
  maxGradNorm: number;
}

export interface FusedAdamWResult {
  params: tf.Tensor[];
  firstMoments: tf.Tensor[];
  secondMoments: tf.Tensor[];
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: tf.Scalar;
}

function count(attrs: tf.NamedAttrMap | undefined, name: string): number {
  const v = attrs?.[name];
  if (typeof v !== "number") throw new Error(`AdamW kernel: attribute ${name} missing`);
  return v;
}

export async function adamwKernels(backend: WasmBackend): Promise<Array<[string, KernelFunc]>> {
  const e = await instantiateKernels(backend, FILE);
  const sumSquares = exported<(x: number, n: number) => number>(e, "sum_squares", FILE);
  const adamw = exported<(...args: number[]) => void>(e, "adamw", FILE);
  const kernel: KernelFunc = ({ inputs, attrs }) => {
    const n = count(attrs, "count");
    const get = (name: string) => {
      const t = inputs[name];
      if (!t) throw new Error(`AdamW kernel: input ${name} missing`);
      return t;
    };
    const size = (t: tf.TensorInfo) => t.shape.reduce((p, d) => p * d, 1);
    let squares = 0; // float64 across weights
    for (let i = 0; i < n; i++) {
      const g = get(`g${i}`);
      squares += sumSquares(addressOf(backend, g), size(g));
    }
    const norm = Math.sqrt(squares);
    const maxNorm = count(attrs, "maxGradNorm");
    const gradScale = maxNorm > 0 ? maxNorm / Math.max(norm, maxNorm) : 1;
    const [lr, beta1, beta2, eps, wd, step] = ["learningRate", "beta1", "beta2", "epsilon", "weightDecay", "step"].map((a) => count(attrs, a));
    if (lr === undefined || beta1 === undefined || beta2 === undefined || eps === undefined || wd === undefined || step === undefined)
      throw new Error("AdamW kernel: attributes");
    const decays = attrs?.decays;
    const stepSize = lr / (1 - Math.pow(beta1, step));
    const secondCorrection = Math.sqrt(1 - Math.pow(beta2, step));
    const params: tf.TensorInfo[] = [];
    const ms: tf.TensorInfo[] = [];
    const vs: tf.TensorInfo[] = [];
    for (let i = 0; i < n; i++) {
      const p = get(`p${i}`);
      const shape = [...p.shape];
      const [p2, m2, v2] = [backend.makeOutput(shape, "float32"), backend.makeOutput(shape, "float32"), backend.makeOutput(shape, "float32")];
      const decay = Array.isArray(decays) && decays[i] === 1 ? lr * wd : 0;
      const at = (t: tf.TensorInfo) => addressOf(backend, t);
      adamw(at(p), at(get(`g${i}`)), at(get(`m${i}`)), at(get(`v${i}`)), at(p2), at(m2), at(v2), size(p), beta1, beta2, eps, stepSize, secondCorrection, decay, gradScale);
      params.push(p2);
      ms.push(m2);
      vs.push(v2);
    }
    const normOut = backend.makeOutput([], "float32");
    new Float32Array(backend.wasm.asm.memory.buffer, addressOf(backend, normOut), 1)[0] = norm;
    return [...params, ...ms, ...vs, normOut];
  };
  return [[ADAMW_KERNEL, kernel]];
}

/**
 * One AdamW update of every weight from its gradient, after clipping the gradients'
 * global norm. Returns new tensors (the caller assigns them to its variables and
 * disposes nothing else); on a backend without the kernel, the same update in stock ops.
 */
export function fusedAdamW(params: tf.Tensor[], grads: tf.Tensor[], firstMoments: tf.Tensor[], secondMoments: tf.Tensor[], s: FusedAdamWSettings): FusedAdamWResult {
  const n = params.length;
  if (grads.length !== n || firstMoments.length !== n || secondMoments.length !== n || s.decays.length !== n)
    throw new Error("fusedAdamW: params, grads, moments and decays must align");
  if (tf.getKernel(ADAMW_KERNEL, tf.getBackend())) {
    const inputs: tf.NamedTensorMap = {};
    for (let i = 0; i < n; i++) {
      const [p, g, m, v] = [params[i], grads[i], firstMoments[i], secondMoments[i]];
      if (!p || !g || !m || !v) throw new Error("fusedAdamW: missing tensor");
      inputs[`p${i}`] = p;
      inputs[`g${i}`] = g;
      inputs[`m${i}`] = m;
      inputs[`v${i}`] = v;
    }
    const attrs = { ...s, decays: s.decays.map((d) => (d ? 1 : 0)), count: n };
    return unpack(tf.engine().runKernel(ADAMW_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[], n);
  }
  const out = tf.tidy(() => {
    const gradNorm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    const scale = s.maxGradNorm > 0 ? tf.div(s.maxGradNorm, tf.maximum(gradNorm, s.maxGradNorm)) : tf.scalar(1);
    const stepSize = s.learningRate / (1 - Math.pow(s.beta1, s.step));
    const secondCorrection = Math.sqrt(1 - Math.pow(s.beta2, s.step));
    const result: { params: tf.Tensor[]; firstMoments: tf.Tensor[]; secondMoments: tf.Tensor[] } = { params: [], firstMoments: [], secondMoments: [] };
    params.forEach((p, i) => {
      const g = tf.mul(grads[i] ?? tf.zerosLike(p), scale);
      const m = tf.add(tf.mul(firstMoments[i] ?? tf.zerosLike(p), s.beta1), tf.mul(g, 1 - s.beta1));
      const v = tf.add(tf.mul(secondMoments[i] ?? tf.zerosLike(p), s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
      let updated = tf.sub(p, tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), secondCorrection), s.epsilon)), stepSize));
      if (s.decays[i] && s.weightDecay > 0) updated = tf.sub(updated, tf.mul(p, s.learningRate * s.weightDecay));
      result.params.push(updated);
      result.firstMoments.push(m);
      result.secondMoments.push(v);
    });
    return [...result.params, ...result.firstMoments, ...result.secondMoments, gradNorm];
  });
  return unpack(out, n);
}

function unpack(out: tf.Tensor[], n: number): FusedAdamWResult {
  const gradNorm = out[3 * n];
  if (!gradNorm) throw new Error("fusedAdamW: too few outputs");
  return { params: out.slice(0, n), firstMoments: out.slice(n, 2 * n), secondMoments: out.slice(2 * n, 3 * n), gradNorm: gradNorm as tf.Scalar };
}
