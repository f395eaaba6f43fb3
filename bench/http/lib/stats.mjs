// Summary statistics for benchmark samples. Medians, not means: one round disturbed by another
// process on this shared machine must not move the figure we quote.

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values) {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `[min, max]` of the finite `values`; `[NaN, NaN]` when there are none. */
export function range(values) {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return [Number.NaN, Number.NaN];
  return [Math.min(...finite), Math.max(...finite)];
}
