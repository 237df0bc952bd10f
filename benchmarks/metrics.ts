/**
 * Evaluation metrics as pure functions over probability rows (one row per query, summing to 1)
 * and integer labels. Accuracy is reported per episode with a 95% confidence interval over
 * episodes; NLL and calibration error are pooled over all queries.
 */

export type ProbRows = readonly ArrayLike<number>[];

/** Index of the largest entry; ties go to the lowest index, so predictions are deterministic. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function checkShapes(probs: ProbRows, labels: ArrayLike<number>): void {
  if (probs.length !== labels.length) {
    throw new Error(`metrics: ${probs.length} probability rows but ${labels.length} labels`);
  }
}

/** Fraction of rows whose argmax equals the label (NaN for no rows). */
export function accuracy(probs: ProbRows, labels: ArrayLike<number>): number {
  checkShapes(probs, labels);
  let hits = 0;
  for (let i = 0; i < probs.length; i++) if (argmax(probs[i]) === labels[i]) hits++;
  return hits / probs.length;
}

/** Probabilities below this are clamped before the log, so one confident miss is finite. */
export const NLL_FLOOR = 1e-12;

/** Mean negative log-likelihood of the true labels, −(1/n) Σ log max(p_i[y_i], 1e-12). */
export function negativeLogLikelihood(probs: ProbRows, labels: ArrayLike<number>): number {
  checkShapes(probs, labels);
  let total = 0;
  for (let i = 0; i < probs.length; i++) total -= Math.log(Math.max(probs[i][labels[i]], NLL_FLOOR));
  return total / probs.length;
}

/** One confidence bin of a reliability diagram: queries whose max probability is in (lo, hi]. */
export interface CalibrationBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean max probability in the bin (NaN when empty). */
  readonly confidence: number;
  /** Share of the bin's queries predicted right (NaN when empty). */
  readonly accuracy: number;
}

/** Queries binned by confidence (max probability) into `bins` equal bins (k/B, (k+1)/B]. */
export function calibrationBins(probs: ProbRows, labels: ArrayLike<number>, bins = 15): CalibrationBin[] {
  checkShapes(probs, labels);
  const count = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  for (let i = 0; i < probs.length; i++) {
    const predicted = argmax(probs[i]);
    const conf = probs[i][predicted];
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(conf * bins) - 1));
    count[b]++;
    confidence[b] += conf;
    if (predicted === labels[i]) hits[b]++;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lo: b / bins, hi: (b + 1) / bins, count: count[b], confidence: confidence[b] / count[b], accuracy: hits[b] / count[b],
  }));
}

/** Expected calibration error: ECE = Σ_b (|b|/n)·|accuracy(b) − mean confidence(b)| over `calibrationBins`. */
export function expectedCalibrationError(probs: ProbRows, labels: ArrayLike<number>, bins = 15): number {
  let ece = 0;
  for (const b of calibrationBins(probs, labels, bins)) {
    if (b.count > 0) ece += (b.count * Math.abs(b.accuracy - b.confidence)) / probs.length;
  }
  return ece;
}

export interface MeanCi {
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator). */
  readonly sd: number;
  /** Half-width of the normal 95% interval, 1.96·sd/√n (NaN for fewer than 2 values). */
  readonly ci95: number;
}

export function meanWithCi95(values: readonly number[]): MeanCi {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: Number.NaN, ci95: Number.NaN };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const sd = Math.sqrt(variance);
  return { mean, sd, ci95: (1.96 * sd) / Math.sqrt(n) };
}
