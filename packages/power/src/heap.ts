/**
 * A binary max-heap of job numbers ordered by (priority, marginal gain), both read from arrays
 * the caller updates: after changing an entry's gain, call `lowered` (gains only fall, by
 * concavity, so an entry only ever moves down). Ties go to the lower job number, which keeps
 * every run deterministic.
 */
export class JobHeap {
  private readonly heap: Int32Array;
  private size = 0;

  constructor(
    capacity: number,
    private readonly priority: Float64Array,
    private readonly gain: Float64Array,
  ) {
    this.heap = new Int32Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** The best entry; only valid when `length > 0`. */
  top(): number {
    return this.heap[0]!;
  }

  /** Replaces the contents with `jobs` and heapifies in O(n). */
  reset(jobs: ArrayLike<number>, count: number): void {
    for (let i = 0; i < count; i++) this.heap[i] = jobs[i]!;
    this.size = count;
    for (let i = (count >> 1) - 1; i >= 0; i--) this.down(i);
  }

  pop(): void {
    this.size--;
    if (this.size > 0) {
      this.heap[0] = this.heap[this.size]!;
      this.down(0);
    }
  }

  /** The top entry's gain fell: restore the order. */
  lowered(): void {
    this.down(0);
  }

  private better(a: number, b: number): boolean {
    const pa = this.priority[a]!;
    const pb = this.priority[b]!;
    if (pa !== pb) return pa > pb;
    const ga = this.gain[a]!;
    const gb = this.gain[b]!;
    return ga !== gb ? ga > gb : a < b;
  }

  private down(i: number): void {
    const h = this.heap;
    const item = h[i]!;
    const n = this.size;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.better(h[child + 1]!, h[child]!)) child++;
      if (!this.better(h[child]!, item)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = item;
  }
}
