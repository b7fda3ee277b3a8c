// Metrics the grader and the leaderboard share: the unbiased pass@k estimator and a mean with
// its Student-t confidence interval over seeds.

function assertCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/**
 * Unbiased pass@k (Chen et al. 2021) from n samples of which c are correct:
 * 1 − C(n−c, k) / C(n, k). The ratio is computed as ∏_{i=n−c+1..n} (1 − k/i), a product of
 * numbers in [0, 1], so no binomial coefficient is ever formed and n in the thousands is exact
 * to rounding.
 */
export function passAtK(n: number, c: number, k: number): number {
  assertCount("n", n, 1, Number.MAX_SAFE_INTEGER);
  assertCount("c", c, 0, n);
  assertCount("k", k, 1, n);
  // Every k-subset contains a correct sample when fewer than k are wrong.
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/** pass@k averaged over items, each with its own n samples and c correct. */
export function meanPassAtK(items: readonly { n: number; correct: number }[], k: number): number {
  if (items.length === 0) throw new RangeError("meanPassAtK needs at least one item");
  return items.reduce((sum, item) => sum + passAtK(item.n, item.correct, k), 0) / items.length;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7): accurate to ~1e-15, enough for the t quantile. */
function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = coefficients[0] ?? 0;
  for (let index = 1; index < coefficients.length; index++) sum += (coefficients[index] ?? 0) / (shifted + index);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let term = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + term * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + term / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    result *= d * c;
    term = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + term * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + term / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    result *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return result;
}

/** Regularised incomplete beta I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on one side of the mean; use the symmetry otherwise.
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `degrees` degrees of freedom. */
export function studentTCdf(t: number, degrees: number): number {
  const tail = 0.5 * incompleteBeta(degrees / (degrees + t * t), degrees / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p, by bisection (the CDF is monotone; 200 halvings reach double precision). */
export function studentTQuantile(p: number, degrees: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!(degrees > 0)) throw new RangeError(`degrees of freedom must be positive, got ${degrees}`);
  if (p < 0.5) return -studentTQuantile(1 - p, degrees);
  let [lo, hi] = [0, 1];
  while (studentTCdf(hi, degrees) < p) hi *= 2;
  for (let step = 0; step < 200 && hi - lo > 1e-13 * Math.max(1, hi); step++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, degrees) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface MeanWithInterval {
  n: number;
  mean: number;
  /** Sample standard deviation; null from a single value. */
  sd: number | null;
  /** Half the width of the two-sided interval; null from a single value (one seed gives no error bar). */
  halfWidth: number | null;
  lower: number | null;
  upper: number | null;
  confidence: number;
}

/** Mean of per-seed values with a two-sided Student-t confidence interval (95% by default). */
export function meanWithCI(values: readonly number[], confidence = 0.95): MeanWithInterval {
  if (values.length === 0) throw new RangeError("meanWithCI needs at least one value");
  if (!values.every(Number.isFinite)) throw new RangeError("meanWithCI needs finite values");
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  if (n === 1) return { n, mean, sd: null, halfWidth: null, lower: null, upper: null, confidence };
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
  const halfWidth = studentTQuantile((1 + confidence) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, halfWidth, lower: mean - halfWidth, upper: mean + halfWidth, confidence };
}
