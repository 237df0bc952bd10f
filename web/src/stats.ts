/** Confidence intervals for what a single labelled query set measures. */

/** Wilson 95% interval of an accuracy over n queries (sound for small n and for 0 or 1). */
export function wilson95(accuracy: number, n: number): { lo: number; hi: number } {
  if (n <= 0) return { lo: Number.NaN, hi: Number.NaN };
  const z = 1.96, z2 = z * z;
  const centre = (accuracy + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((accuracy * (1 - accuracy)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}
