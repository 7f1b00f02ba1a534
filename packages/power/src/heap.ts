/**
 * A binary max-heap kept in two typed arrays, entry i being job `job[i]` with gain `gain[i]`:
 * ordered by gain, ties to the lower job number, which keeps every run deterministic. Plain
 * functions over the arrays, so that the greedy loop compiles them inline.
 */

/** Heapifies the first `size` entries in O(size). */
export function heapify(job: Int32Array, gain: Float64Array, size: number): void {
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(job, gain, size, i, job[i]!, gain[i]!);
}

/**
 * Places job `j` with gain `g` at entry `i` of a heap of `size` entries whose subtrees below
 * `i` are heaps, moving it down to its place.
 */
export function siftDown(
  job: Int32Array,
  gain: Float64Array,
  size: number,
  i: number,
  j: number,
  g: number,
): void {
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    let cj = job[c]!;
    let cg = gain[c]!;
    if (c + 1 < size) {
      const rj = job[c + 1]!;
      const rg = gain[c + 1]!;
      if (rg > cg || (rg === cg && rj < cj)) {
        c++;
        cj = rj;
        cg = rg;
      }
    }
    if (!(cg > g || (cg === g && cj < j))) break;
    job[i] = cj;
    gain[i] = cg;
    i = c;
  }
  job[i] = j;
  gain[i] = g;
}
