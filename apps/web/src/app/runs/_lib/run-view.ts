// Pure helpers of the runs pages: state names and order, the theory's correct-mass curve,
// and the pivot of self-reported metric rows into chart series. No React here, so the
// numbers the charts draw are unit-tested.

import { RUN_STATES, TERMINAL_RUN_STATES, type RunState } from "@transcend/protocol";

export { RUN_STATES };
export type RunStateName = RunState;

/** The path a successful run takes, in order; failed and cancelled leave it anywhere. */
export const RUN_PATH = ["queued", "assigned", "pretraining", "evaluating_base", "grpo", "evaluating_final", "graded"] as const;

export const TERMINAL_STATES: readonly RunStateName[] = TERMINAL_RUN_STATES;

export const RUN_STATE_LABELS: Record<RunStateName, string> = {
  queued: "Queued",
  assigned: "Assigned",
  pretraining: "Pretraining",
  evaluating_base: "Evaluating base",
  grpo: "GRPO",
  evaluating_final: "Evaluating final",
  graded: "Graded",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** What each state means, for the timeline's not-yet-reached steps and tooltips. */
export const RUN_STATE_DESCRIPTIONS: Record<RunStateName, string> = {
  queued: "waiting for a runner that can run it",
  assigned: "a runner holds the lease and is starting the job",
  pretraining: "next-token training of the origin model from scratch",
  evaluating_base: "the origin model answers the server's held-out items",
  grpo: "GRPO on the task variant's prompt mix",
  evaluating_final: "the GRPO model answers the same held-out items",
  graded: "the server verified every answer and stored the results",
  failed: "the run stopped with an error",
  cancelled: "the run was cancelled",
};

export function isRunState(value: string): value is RunStateName {
  return (RUN_STATES as readonly string[]).includes(value);
}

export function isTerminal(state: string): boolean {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

export type StateTone = "neutral" | "info" | "active" | "success" | "danger";

export function stateTone(state: string): StateTone {
  switch (state) {
    case "queued":
      return "neutral";
    case "assigned":
      return "info";
    case "graded":
      return "success";
    case "failed":
      return "danger";
    case "cancelled":
      return "neutral";
    default:
      return "active";
  }
}

// ── the theory (DESIGN.md §1.1) ───────────────────────────────────────────────

/**
 * The correct mass of the KL-regularised optimum for a binary reward:
 * Q* = Q·e^{1/β} / (Q·e^{1/β} + 1 − Q). Written as 1 / (1 + (1−Q)/Q · e^{−1/β}) so a small
 * β (e^{1/β} past the float range) stays finite; β = 0 is the limit (any Q > 0 → 1).
 */
export function optimalCorrectMass(q: number, beta: number): number {
  if (!(q > 0)) return 0;
  if (q >= 1) return 1;
  if (!(beta > 0)) return 1;
  return 1 / (1 + ((1 - q) / q) * Math.exp(-1 / beta));
}

/** Points of Q ↦ Q* on [0, 1], denser near the ends where the curve bends. */
export function theoreticalCurve(beta: number, points = 101): { q: number; qStar: number }[] {
  const count = Math.max(2, Math.min(1001, Math.floor(points)));
  const curve: { q: number; qStar: number }[] = [];
  for (let i = 0; i < count; i++) {
    // A cosine spacing puts more points where a small β makes the curve a near step.
    const q = (1 - Math.cos((Math.PI * i) / (count - 1))) / 2;
    curve.push({ q, qStar: optimalCorrectMass(q, beta) });
  }
  return curve;
}

// ── training curves (self-reported) ───────────────────────────────────────────

export interface MetricPoint {
  phase: string;
  step: number;
  name: string;
  value: number;
}

export interface CurveDefinition {
  id: string;
  title: string;
  phase: "pretraining" | "grpo";
  /** Metric names the runner may use for this curve, first match wins. */
  names: readonly string[];
  unit?: string;
  /** Fractions are drawn on a fixed [0, 1] axis so steps of different runs compare. */
  fraction?: boolean;
}

export const CURVES: readonly CurveDefinition[] = [
  { id: "pretraining-loss", title: "Pretraining loss", phase: "pretraining", names: ["loss"], unit: "nats/token" },
  { id: "reward", title: "Mean reward", phase: "grpo", names: ["meanReward", "reward"], fraction: true },
  { id: "kl", title: "KL to the origin model", phase: "grpo", names: ["kl"] },
  { id: "entropy", title: "Entropy", phase: "grpo", names: ["entropy"], unit: "nats/token" },
  { id: "completion-length", title: "Completion length", phase: "grpo", names: ["completionLength"], unit: "tokens" },
  {
    id: "zero-variance",
    title: "Zero-variance groups",
    phase: "grpo",
    names: ["zeroStdFraction", "zeroVarianceFraction"],
    fraction: true,
  },
  { id: "grpo-loss", title: "GRPO loss", phase: "grpo", names: ["loss"] },
];

export interface CurveSeries {
  definition: CurveDefinition;
  /** Sorted by step, one point per step (the last value reported for a step wins). */
  points: { step: number; value: number }[];
}

/** The runner reports phases with dashes or underscores depending on where they come from. */
function phaseKey(phase: string): string {
  return phase.replace(/-/g, "_");
}

/**
 * Pivots metric rows (one per phase, step and name) into one series per curve, leaving
 * out curves the runner reported nothing for. Non-finite values are dropped: a chart
 * cannot place them and they would hide the rest of the series.
 */
export function curveSeries(metrics: readonly MetricPoint[]): CurveSeries[] {
  const byPhaseAndName = new Map<string, Map<number, number>>();
  for (const point of metrics) {
    if (!Number.isFinite(point.value)) continue;
    const key = `${phaseKey(point.phase)}\u0000${point.name}`;
    let steps = byPhaseAndName.get(key);
    if (!steps) byPhaseAndName.set(key, (steps = new Map()));
    steps.set(point.step, point.value);
  }
  const series: CurveSeries[] = [];
  for (const definition of CURVES) {
    const name = definition.names.find((candidate) => byPhaseAndName.has(`${definition.phase}\u0000${candidate}`));
    if (name === undefined) continue;
    const steps = byPhaseAndName.get(`${definition.phase}\u0000${name}`) ?? new Map<number, number>();
    const points = [...steps.entries()].sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value }));
    series.push({ definition, points });
  }
  return series;
}

/**
 * At most `limit` points, evenly picked and always keeping the last, so a 100k-step
 * pretraining curve draws as fast as a short one.
 */
export function thinPoints<T>(points: readonly T[], limit = 500): T[] {
  if (points.length <= limit) return [...points];
  const stride = points.length / limit;
  const thinned: T[] = [];
  for (let i = 0; i < limit - 1; i++) {
    const point = points[Math.floor(i * stride)];
    if (point !== undefined) thinned.push(point);
  }
  const last = points[points.length - 1];
  if (last !== undefined) thinned.push(last);
  return thinned;
}

// ── times ─────────────────────────────────────────────────────────────────────

/** "4 s", "2 min 5 s", "1 h 3 min": how long a state lasted. */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return "—";
  const seconds = Math.round(milliseconds / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function formatAgo(at: Date, now: Date): string {
  const seconds = Math.round((now.getTime() - at.getTime()) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** 0.4567 → "45.7%"; null/undefined → "—". */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${(value * 100).toFixed(digits)}%`;
}

/** Signed percentage points: +3.2 pp / −1.0 pp. */
export function formatGain(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const points = value * 100;
  const sign = points > 0 ? "+" : points < 0 ? "−" : "±";
  return `${sign}${Math.abs(points).toFixed(digits)} pp`;
}
