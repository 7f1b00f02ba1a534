/**
 * Splitting a TCP byte stream into syslog messages (RFC 6587 §3.4), the framing told apart per
 * message as rsyslog does: a frame that starts with a digit is octet-counted (`MSG-LEN SP MSG`,
 * §3.4.1), anything else runs to the next LF (non-transparent framing, §3.4.2). A syslog message
 * starts with '<', so the two cannot be confused.
 */

/** Why bytes were thrown away instead of becoming a message. */
export type FrameDropReason = "oversize" | "truncated";

/** What the decoder hands back. */
export interface FrameSink {
  /** A whole message, without its length prefix or LF (and a CR before the LF). */
  frame(bytes: Buffer): void;
  /** A message thrown away: longer than the limit, or cut off by the end of the stream. */
  drop(reason: FrameDropReason): void;
}

/** Splits one connection's bytes into messages. */
export interface FrameDecoder {
  /** Takes the next bytes; calls the sink for each message they complete. */
  push(chunk: Buffer): void;
  /** The stream ended: a last LF-framed message without its LF counts; a partial octet-counted one is dropped. */
  end(): void;
  /** Bytes held for a message not yet complete (never more than the limit plus a length prefix). */
  readonly pendingBytes: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
/** MSG-LEN digits to read before deciding it is no length (a 64 KiB limit needs 5). */
const MAX_LENGTH_DIGITS = 9;

/**
 * A decoder that keeps at most `maxMessageBytes` of a message: a longer one is skipped to its end
 * (the counted length, or the next LF) and reported once as `oversize`.
 *
 * @example
 *   const d = createFrameDecoder(65_536, { frame: (b) => lines.push(b.toString()), drop: () => {} });
 *   d.push(Buffer.from("5 <4>1 "));   // nothing yet
 *   d.push(Buffer.from("x<4>a\n"));   // "<4>1 x" then "<4>a"
 */
export function createFrameDecoder(maxMessageBytes: number, sink: FrameSink): FrameDecoder {
  // The bytes of the message not yet complete, in a buffer that grows by doubling so that a
  // sender trickling a byte at a time costs linear, not quadratic, copying.
  let held = Buffer.alloc(0);
  let heldBytes = 0;
  // How far into the held bytes there is surely no LF, so each push scans only what is new.
  let scannedTo = 0;
  // Bytes of an oversize octet-counted message still to skip, or -1 to skip to the next LF.
  let skip = 0;

  /** Hands out the messages `buf` completes; returns where the incomplete rest starts. */
  function consume(buf: Buffer): number {
    let p = 0;
    while (p < buf.length) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length - p);
        skip -= n;
        p += n;
        continue;
      }
      if (skip < 0) {
        const lf = buf.indexOf(LF, p);
        if (lf < 0) return buf.length;
        skip = 0;
        p = lf + 1;
        continue;
      }
      const first = buf[p]!;
      if (first >= 0x31 && first <= 0x39) {
        // §3.4.1: MSG-LEN = NONZERO-DIGIT *DIGIT, then SP.
        let q = p + 1;
        while (q < buf.length && q - p < MAX_LENGTH_DIGITS && isDigit(buf[q]!)) q++;
        if (q === buf.length && q - p < MAX_LENGTH_DIGITS) return p; // the length goes on
        if (buf[q] === SP) {
          const length = Number(buf.toString("latin1", p, q));
          const start = q + 1;
          if (length > maxMessageBytes) {
            sink.drop("oversize");
            skip = length;
            p = start;
            continue;
          }
          if (buf.length - start < length) return p;
          sink.frame(buf.subarray(start, start + length));
          p = start + length;
          continue;
        }
        // Digits without SP: no length, so an LF-framed line (the parser will say what is wrong).
      }
      const lf = buf.indexOf(LF, p === 0 ? Math.max(scannedTo, 0) : p);
      if (lf < 0) {
        if (buf.length - p > maxMessageBytes) {
          sink.drop("oversize");
          skip = -1;
          return buf.length;
        }
        return p;
      }
      const end = lf > p && buf[lf - 1] === CR ? lf - 1 : lf;
      if (end - p > maxMessageBytes) sink.drop("oversize");
      else if (end > p) sink.frame(buf.subarray(p, end));
      p = lf + 1;
    }
    return p;
  }

  function hold(bytes: Buffer): void {
    if (bytes.length > held.length) {
      const grown = Buffer.alloc(Math.max(bytes.length, held.length * 2, 1024));
      held = grown;
    }
    bytes.copy(held, 0);
    heldBytes = bytes.length;
  }

  return {
    push(chunk) {
      if (heldBytes === 0) {
        const rest = consume(chunk);
        // Copy the rest: a subarray would pin the whole socket chunk while a message waits.
        if (rest < chunk.length) hold(chunk.subarray(rest));
        scannedTo = chunk.length - rest;
        return;
      }
      if (heldBytes + chunk.length > held.length) {
        const grown = Buffer.alloc(Math.max(heldBytes + chunk.length, held.length * 2));
        held.copy(grown, 0, 0, heldBytes);
        held = grown;
      }
      chunk.copy(held, heldBytes);
      const total = heldBytes + chunk.length;
      const rest = consume(held.subarray(0, total));
      heldBytes = 0;
      if (rest < total) {
        held.copy(held, 0, rest, total);
        heldBytes = total - rest;
      }
      scannedTo = heldBytes;
      // Give back a buffer grown for one large message once it is done.
      if (heldBytes === 0 && held.length > 64 * 1024) held = Buffer.alloc(0);
    },
    end() {
      if (heldBytes === 0) return;
      const rest = held.subarray(0, heldBytes);
      heldBytes = 0;
      const first = rest[0]!;
      if (skip !== 0) return; // already reported as oversize
      if (first >= 0x31 && first <= 0x39 && /^\d+ /.test(rest.toString("latin1", 0, 12)))
        sink.drop("truncated");
      else sink.frame(rest[rest.length - 1] === CR ? rest.subarray(0, -1) : rest);
    },
    get pendingBytes() {
      return heldBytes;
    },
  };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
