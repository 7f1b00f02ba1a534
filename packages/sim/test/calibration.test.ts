import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  A40_CURVE,
  CAP_DRAW_RATIO,
  relativeThroughput,
  THROUGHPUT_CURVE,
  V100_CURVE,
} from "../src/calibration.ts";
import { calibrateZeusFile, parseZeusCsv, rmsError } from "../src/calibration-fit.ts";
import { sharedData } from "./factories.ts";

const sweep = (gpu: string): string => sharedData(`power-calibration/summary_power_${gpu}.csv`);

const v100 = calibrateZeusFile(sweep("v100"));
const a40 = calibrateZeusFile(sweep("a40"));

function report(name: string, fit: typeof v100): void {
  console.log(
    `${name}: k=${fit.k.toFixed(3)} x0=${fit.x0.toFixed(4)} rms=${fit.rmsError.toFixed(4)} ` +
      `capDrawRatio=${fit.capDrawRatio.toFixed(4)}\n` +
      fit.points
        .map(
          (p) =>
            `  x=${p.x.toFixed(3)} r=${p.relativeThroughput.toFixed(3)} fit=${relativeThroughput(p.x, fit).toFixed(3)} ` +
            `power/max=${p.powerOfMax.toFixed(3)} power/uncapped=${p.powerOfUncapped.toFixed(3)} n=${p.workloads}`,
        )
        .join("\n"),
  );
}

describe("calibration against the Zeus traces", () => {
  it("V100: the fitted curve is within 0.01 RMS and the exported constants are the fit", () => {
    report("V100", v100);
    assert.ok(v100.rmsError < 0.01, `rms ${v100.rmsError}`);
    assert.ok(Math.abs(v100.k - V100_CURVE.k) < 0.01, `k ${v100.k} vs ${V100_CURVE.k}`);
    assert.ok(Math.abs(v100.x0 - V100_CURVE.x0) < 0.001, `x0 ${v100.x0} vs ${V100_CURVE.x0}`);
    assert.ok(rmsError(V100_CURVE, v100.points) < v100.rmsError + 1e-4);
    // FACTS.md: V100 k=4.75, x0=0.13 within ~0.01.
    assert.ok(rmsError({ k: 4.75, x0: 0.13 }, v100.points) < 0.01);
    assert.equal(THROUGHPUT_CURVE, V100_CURVE);
  });

  it("A40: the exported constants are the fit, with the error the comment states", () => {
    report("A40", a40);
    assert.ok(Math.abs(a40.k - A40_CURVE.k) < 0.01, `k ${a40.k} vs ${A40_CURVE.k}`);
    assert.ok(Math.abs(a40.x0 - A40_CURVE.x0) < 0.001, `x0 ${a40.x0} vs ${A40_CURVE.x0}`);
    assert.ok(Math.abs(a40.rmsError - 0.041) < 0.001, `rms ${a40.rmsError}`);
  });

  it("median points match the figures FACTS.md quotes", () => {
    const at = (fit: typeof v100, x: number) => fit.points.find((p) => Math.abs(p.x - x) < 0.01)!;
    for (const [x, r] of [
      [0.5, 0.86],
      [0.7, 0.94],
      [0.8, 0.965],
      [0.9, 0.988],
    ] as const)
      assert.ok(Math.abs(at(v100, x).relativeThroughput - r) < 0.01, `V100 at ${x}`);
    assert.ok(Math.abs(at(a40, 0.5).relativeThroughput - 0.75) < 0.01);
    // Average power at an 80% cap is ~0.85–0.87 of uncapped.
    const p80 = at(v100, 0.8).powerOfUncapped;
    assert.ok(p80 > 0.85 && p80 < 0.875, `power at 80%: ${p80}`);
  });

  it("cap draw ratio: bound runs average just under the cap", () => {
    assert.ok(Math.abs(v100.capDrawRatio - CAP_DRAW_RATIO) < 1e-4, `${v100.capDrawRatio}`);
    assert.ok(a40.capDrawRatio > 0.9 && a40.capDrawRatio < 1);
  });

  it("the curve is concave, increasing, 0 at x0 and 1 at the max cap", () => {
    assert.equal(relativeThroughput(1, V100_CURVE), 1);
    assert.equal(relativeThroughput(V100_CURVE.x0, V100_CURVE), 0);
    let prev = 0;
    let prevSlope = Number.POSITIVE_INFINITY;
    for (let x = 0.2; x <= 1.0001; x += 0.05) {
      const r = relativeThroughput(x, V100_CURVE);
      assert.ok(r >= prev);
      assert.ok(r - prev <= prevSlope + 1e-12);
      prevSlope = r - prev;
      prev = r;
    }
  });

  it("a malformed row is an error naming its line", () => {
    const text =
      "dataset,network,batch_size,optimizer,power_limit,time_per_epoch,average_power\na,b,1,c,100,x,3\n";
    assert.throws(() => parseZeusCsv(text, "t.csv"), /t\.csv:2: /);
    assert.throws(() => parseZeusCsv("nope\n", "t.csv"), /t\.csv:1: expected header/);
  });
});
