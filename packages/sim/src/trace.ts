/**
 * Request arrivals for inference services: a replay of the Azure LLM inference trace 2023
 * (Patel et al., "Splitwise", ISCA 2024; columns TIMESTAMP, ContextTokens, GeneratedTokens), or a
 * seeded synthetic stream. Either way a service sees an endless, deterministic sequence of
 * (arrival time, prompt tokens, generated tokens); a trace loops when it runs out.
 */
import { readFileSync } from "node:fs";
import { createPrng, nextFloat, type Prng } from "./prng.ts";

/** A request trace in columns: arrival offsets from the first request, and token counts. */
export interface RequestTrace {
  arrivalSeconds: Float64Array;
  promptTokens: Int32Array;
  generatedTokens: Int32Array;
  /** Time from the first arrival to one mean gap after the last: the loop period. */
  spanSeconds: number;
}

/** A malformed trace: the file, the line and the reason. */
export class TraceError extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = "TraceError";
  }
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** Parses an Azure LLM trace CSV (header `TIMESTAMP,ContextTokens,GeneratedTokens`). */
export function parseAzureTrace(text: string, file = "trace"): RequestTrace {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim();
  if (header !== "TIMESTAMP,ContextTokens,GeneratedTokens")
    throw new TraceError(
      file,
      1,
      `expected the header TIMESTAMP,ContextTokens,GeneratedTokens, got ${JSON.stringify(header)}`,
    );
  const arrivals: number[] = [];
  const prompts: number[] = [];
  const generated: number[] = [];
  let first = Number.NaN;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const cols = line.split(",");
    if (cols.length !== 3) throw new TraceError(file, i + 1, `expected 3 columns, got ${cols.length}`);
    const m = TIMESTAMP.exec(cols[0]!.trim());
    if (!m) throw new TraceError(file, i + 1, `bad TIMESTAMP ${JSON.stringify(cols[0])}`);
    const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    const seconds = ms / 1000 + (m[7] ? Number(`0.${m[7]}`) : 0);
    const prompt = Number(cols[1]);
    const gen = Number(cols[2]);
    if (!Number.isInteger(prompt) || prompt < 0)
      throw new TraceError(
        file,
        i + 1,
        `ContextTokens must be a whole number ≥ 0, got ${JSON.stringify(cols[1])}`,
      );
    if (!Number.isInteger(gen) || gen < 0)
      throw new TraceError(
        file,
        i + 1,
        `GeneratedTokens must be a whole number ≥ 0, got ${JSON.stringify(cols[2])}`,
      );
    if (Number.isNaN(first)) first = seconds;
    const offset = seconds - first;
    if (arrivals.length > 0 && offset < arrivals[arrivals.length - 1]!)
      throw new TraceError(file, i + 1, "timestamps go backwards");
    arrivals.push(offset);
    prompts.push(prompt);
    generated.push(gen);
  }
  if (arrivals.length === 0) throw new TraceError(file, 2, "no requests");
  const last = arrivals[arrivals.length - 1]!;
  const meanGap = arrivals.length > 1 ? last / (arrivals.length - 1) : 1;
  return {
    arrivalSeconds: Float64Array.from(arrivals),
    promptTokens: Int32Array.from(prompts),
    generatedTokens: Int32Array.from(generated),
    spanSeconds: last + meanGap,
  };
}

const traceCache = new Map<string, RequestTrace>();

/** Reads and parses a trace file once per process. */
export function readAzureTrace(file: string): RequestTrace {
  let trace = traceCache.get(file);
  if (!trace) {
    trace = parseAzureTrace(readFileSync(file, "utf8"), file);
    traceCache.set(file, trace);
  }
  return trace;
}

/** One request as it arrives. */
export interface Arrival {
  atSeconds: number;
  promptTokens: number;
  generatedTokens: number;
}

/** An endless, ordered stream of arrivals. */
export interface ArrivalStream {
  /** The next arrival, without taking it. */
  peek(): Arrival;
  /** Takes the next arrival. */
  take(): Arrival;
}

/**
 * Replays a trace from sim time `startSeconds`, its arrival gaps divided by `rateScale` (2 means
 * twice the request rate), looping forever.
 */
export function traceStream(trace: RequestTrace, startSeconds: number, rateScale = 1): ArrivalStream {
  let i = 0;
  let loop = 0;
  const at = (): Arrival => ({
    atSeconds: startSeconds + (loop * trace.spanSeconds + trace.arrivalSeconds[i]!) / rateScale,
    promptTokens: trace.promptTokens[i]!,
    generatedTokens: Math.max(1, trace.generatedTokens[i]!),
  });
  let next = at();
  return {
    peek: () => next,
    take() {
      const out = next;
      i++;
      if (i === trace.arrivalSeconds.length) {
        i = 0;
        loop++;
      }
      next = at();
      return out;
    },
  };
}

/**
 * Poisson arrivals at `requestsPerSecond` with geometric token counts of the given means, from
 * its own seeded generator so that adding a service does not shift the others' draws.
 */
export function syntheticStream(
  startSeconds: number,
  requestsPerSecond: number,
  promptTokensMean: number,
  generatedTokensMean: number,
  seed: number,
): ArrivalStream {
  const prng: Prng = createPrng(seed);
  const geometric = (mean: number) => Math.max(1, Math.ceil(-Math.log(1 - nextFloat(prng)) * mean));
  let t = startSeconds;
  const draw = (): Arrival => {
    t += -Math.log(1 - nextFloat(prng)) / requestsPerSecond;
    return {
      atSeconds: t,
      promptTokens: geometric(promptTokensMean),
      generatedTokens: geometric(generatedTokensMean),
    };
  };
  let next = draw();
  return {
    peek: () => next,
    take() {
      const out = next;
      next = draw();
      return out;
    },
  };
}
