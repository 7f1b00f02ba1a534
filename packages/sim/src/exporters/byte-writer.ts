/**
 * Writes text exposition pages as bytes into one growable scratch buffer: copies of pre-encoded
 * pieces and numbers written digit by digit, so a page of thousands of samples allocates once.
 */

const ZERO = 48;
const MINUS = 45;
const DOT = 46;
const NEWLINE = 10;

/** A reusable byte buffer; `copy()` hands out the page written since the last `reset`. */
export class ByteWriter {
  private buf: Buffer;
  private off = 0;

  constructor(initialBytes: number) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Starts a new page that will take at most `maxBytes`. */
  reset(maxBytes: number): void {
    if (this.buf.length < maxBytes) this.buf = Buffer.allocUnsafe(Math.max(maxBytes, this.buf.length * 2));
    this.off = 0;
  }

  /** Appends pre-encoded bytes. */
  bytes(piece: Uint8Array): void {
    this.buf.set(piece, this.off);
    this.off += piece.length;
  }

  newline(): void {
    this.buf[this.off++] = NEWLINE;
  }

  /** Appends an integer (|v| < 2^53) in decimal. */
  integer(value: number): void {
    let v = value;
    const buf = this.buf;
    if (v < 0) {
      buf[this.off++] = MINUS;
      v = -v;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    const end = this.off + digits;
    for (let p = end - 1; p >= this.off; p--) {
      const q = Math.floor(v / 10);
      buf[p] = ZERO + (v - q * 10);
      v = q;
    }
    this.off = end;
  }

  /** Appends a number with six decimals, as C's `%f` (and dcgm-exporter) prints doubles. */
  fixed6(value: number): void {
    if (!Number.isFinite(value)) {
      // The text format spells these NaN, +Inf, -Inf.
      const text = Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
      this.off += this.buf.write(text, this.off, "latin1");
      return;
    }
    let micro = Math.round(Math.abs(value) * 1e6);
    if (value < 0 && micro > 0) this.buf[this.off++] = MINUS;
    const whole = Math.floor(micro / 1e6);
    this.integer(whole);
    this.buf[this.off++] = DOT;
    micro -= whole * 1e6;
    for (let p = this.off + 5; p >= this.off; p--) {
      const q = Math.floor(micro / 10);
      this.buf[p] = ZERO + (micro - q * 10);
      micro = q;
    }
    this.off += 6;
  }

  /** A copy of the bytes written since the last `reset`. */
  copy(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.off));
  }
}
