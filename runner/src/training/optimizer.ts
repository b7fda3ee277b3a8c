// AdamW with decoupled weight decay and global-norm gradient clipping, written on plain
// tf.Variables (tfjs ships Adam without decoupled decay). One `step` per optimizer update.
import * as tf from "@tensorflow/tfjs";
import { fusedAdamW } from "../kernels/index";

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
}

// nanoGPT's betas: β₂ = 0.95 is steadier than 0.999 for small models trained from scratch.
export const DEFAULT_ADAMW: AdamWSettings = { beta1: 0.9, beta2: 0.95, epsilon: 1e-8 };

export interface StepHyperparameters {
  learningRate: number;
  weightDecay: number;
  /** Global gradient-norm bound; 0 turns clipping off. */
  gradClip: number;
}

export class AdamW {
  private readonly firstMoments: tf.Variable[];
  private readonly secondMoments: tf.Variable[];
  private steps = 0;

  /**
   * `decays[i]` says whether variable i is weight-decayed: matrices (matmul weights and
   * embeddings) are, biases and layer-norm parameters are not (as nanoGPT).
   */
  constructor(
    readonly variables: tf.Variable[],
    private readonly decays: boolean[],
    private readonly settings: AdamWSettings = DEFAULT_ADAMW,
  ) {
    // In a tidy, so the zero tensors the variables start from are released (a variable
    // keeps its own reference to the data).
    const zeros = () => variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    this.firstMoments = zeros();
    this.secondMoments = zeros();
  }

  /** Applies one update from gradients aligned with `variables`. Call inside tf.tidy. */
  apply(gradients: tf.Tensor[], hp: StepHyperparameters): void {
    this.steps += 1;
    const { beta1, beta2, epsilon } = this.settings;
    // Bias corrections folded into scalars, as torch.optim.AdamW computes them.
    const stepSize = hp.learningRate / (1 - Math.pow(beta1, this.steps));
    const secondCorrection = Math.sqrt(1 - Math.pow(beta2, this.steps));
    this.variables.forEach((variable, i) => {
      const gradient = gradients[i];
      const m = this.firstMoments[i];
      const v = this.secondMoments[i];
      if (!gradient || !m || !v) throw new Error(`AdamW: no gradient or state for variable ${i}`);
      const newM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
      const newV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
      const denominator = tf.add(tf.div(tf.sqrt(newV), secondCorrection), epsilon);
      let updated = tf.sub(variable, tf.mul(tf.div(newM, denominator), stepSize));
      if (this.decays[i] && hp.weightDecay > 0) updated = tf.sub(updated, tf.mul(variable, hp.learningRate * hp.weightDecay));
      m.assign(newM);
      v.assign(newV);
      variable.assign(updated);
    });
  }

  applyFused(gradients: tf.Tensor[], hp: StepHyperparameters): tf.Scalar {
    this.steps += 1;
    const r = fusedAdamW(this.variables, gradients, this.firstMoments, this.secondMoments, {
      ...this.settings,
      learningRate: hp.learningRate,
      weightDecay: hp.weightDecay,
      decays: this.decays,
      step: this.steps,
      maxGradNorm: hp.gradClip,
    });
    this.variables.forEach((v, i) => {
      v.assign(r.params[i] as tf.Tensor);
      this.firstMoments[i]?.assign(r.firstMoments[i] as tf.Tensor);
      this.secondMoments[i]?.assign(r.secondMoments[i] as tf.Tensor);
    });
    return r.gradNorm;
  }

  dispose(): void {
    for (const t of [...this.firstMoments, ...this.secondMoments]) t.dispose();
  }
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (0: unchanged) and returns
 * the norm before clipping, as a scalar tensor so no host round trip is forced.
 */
export function clipByGlobalNorm(gradients: tf.Tensor[], maxNorm: number): { clipped: tf.Tensor[]; norm: tf.Scalar } {
  const norm = tf.sqrt(tf.addN(gradients.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  if (maxNorm <= 0) return { clipped: gradients, norm };
  const scale = tf.div(maxNorm, tf.maximum(norm, maxNorm)); // 1 when the norm is within bounds
  return { clipped: gradients.map((g) => tf.mul(g, scale)), norm };
}

/**
 * One optimizer step on the loss `lossFn` builds: gradients, clipping, AdamW. Returns the
 * loss, the gradient norm and any extra scalars `lossFn` reports, as numbers (one host read).
 */
export function optimizerStep(
  optimizer: AdamW,
  lossFn: () => { loss: tf.Scalar; extras?: tf.Scalar[] },
  hp: StepHyperparameters,
): { loss: number; gradNorm: number; extras: number[] } {
  let extras: tf.Scalar[] = [];
  const summary = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = lossFn();
      extras = out.extras ?? [];
      // Kept past variableGrads' forward tidy so they can be read with the loss.
      extras.forEach((e) => tf.keep(e));
      return out.loss;
    }, optimizer.variables);
    const ordered = optimizer.variables.map((v) => {
      const g = grads[v.name];
      if (!g) throw new Error(`no gradient for ${v.name}`);
      return g;
    });
    const norm = optimizer.applyFused(ordered, hp);
    return tf.stack([value, norm, ...extras]);
  });
  const values = Array.from(summary.dataSync());
  summary.dispose();
  extras.forEach((e) => e.dispose());
  return { loss: values[0] ?? NaN, gradNorm: values[1] ?? NaN, extras: values.slice(2) };
}
