/**
 * The factory and workload of the power outcome bench: a hall of DGX H100 racks (four systems a
 * rack, A/B rack PDUs under one floor PDU per side) where every rack runs one job, cycling
 * through the lab scenario's four kinds of work. Inference services replay the Azure LLM
 * inference trace 2023 (conversation and coding), so their load, and their draw, follow it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BuildResult, loadFactory } from "@flightdeck/model";
import type { JobSpec, Scenario } from "@flightdeck/sim";

/** The Azure LLM inference trace 2023, in the shared data beside the repository. */
const TRACES = join(import.meta.dirname, "../../shared/data/traces/azure-llm-2023");
export const CONV_TRACE = join(TRACES, "AzureLLMInferenceTrace_conv.csv");
export const CODE_TRACE = join(TRACES, "AzureLLMInferenceTrace_code.csv");

/** Seconds after start that the jobs are submitted: the control plane admits them before they run. */
export const SUBMIT_AT_SECONDS = 5;

/** A factory of `racks` DGX H100 racks; its feeds and floor PDUs are sized so racks never crowd them. */
export function benchFactory(racks: number): BuildResult {
  const kw = Math.ceil((racks * 45) / 50) * 50;
  const pad = (i: number) => String(i).padStart(2, "0");
  const text = `apiVersion: flightdeck/v1
kind: Factory
metadata:
  name: power-outcome-${racks}
defaults:
  derating: 0.8
  redundancy: N+N
power:
  - name: util-a
    kind: feed
    side: A
    rating: { kw: ${kw * 2} }
    children:
      - name: fpdu-a1
        kind: floorPdu
        rating: { kw: ${kw} }
  - name: util-b
    kind: feed
    side: B
    rating: { kw: ${kw * 2} }
    children:
      - name: fpdu-b1
        kind: floorPdu
        rating: { kw: ${kw} }
halls:
  - name: hall1
    rows:
      - name: row1
        racks:
          - name: r{01..${pad(racks)}}
            type: dgx-h100-4
            power: { A: fpdu-a1, B: fpdu-b1 }
`;
  const result = loadFactory(text);
  if (!result.build) throw new Error(`bench factory of ${racks} racks does not build`);
  return result.build;
}

/** Requests per second one replica of each service sees, as a multiple of its trace's own rate. */
const CHAT_RATE_PER_REPLICA = 3;
const CODE_RATE_PER_REPLICA = 12;

/**
 * One job per rack (32 GPUs), in rack order, so first-fit puts job k on rack k:
 * 8B pre-training, a 70B chat service (4 replicas of 8 GPUs, conversation trace), a 70B
 * fine-tune under MAX-Q, an 8B coding service (coding trace). Scenario priorities follow the
 * twin (0 is the most important): services 0, pre-training 1, fine-tuning 2.
 */
export function benchScenario(racks: number): Scenario {
  for (const f of [CONV_TRACE, CODE_TRACE])
    if (!existsSync(f)) throw new Error(`the Azure LLM trace is missing: ${f}`);
  const jobs: JobSpec[] = [];
  for (let r = 0; r < racks; r++) {
    const name = `r${String(r + 1).padStart(2, "0")}`;
    const common = { at: SUBMIT_AT_SECONDS };
    switch (r % 4) {
      case 0:
        jobs.push({
          ...common,
          name: `${name}-pretrain`,
          type: "training",
          gpus: 32,
          model: { name: "llama-3.1-8b", parameters: 8.0e9 },
          globalBatchTokens: 2_097_152,
          priority: 1,
        });
        break;
      case 1:
        jobs.push({
          ...common,
          name: `${name}-chat`,
          type: "inference",
          replicas: 4,
          gpusPerReplica: 8,
          model: { name: "meta-llama/Llama-3.1-70B-Instruct", parameters: 70.6e9 },
          requests: { trace: { file: CONV_TRACE, rateScale: 4 * CHAT_RATE_PER_REPLICA } },
          priority: 0,
        });
        break;
      case 2:
        jobs.push({
          ...common,
          name: `${name}-finetune`,
          type: "training",
          gpus: 32,
          profile: "max-q",
          model: { name: "llama-3.1-70b", parameters: 70.6e9 },
          globalBatchTokens: 524_288,
          priority: 2,
        });
        break;
      default:
        jobs.push({
          ...common,
          name: `${name}-code`,
          type: "inference",
          replicas: 4,
          gpusPerReplica: 8,
          model: { name: "meta-llama/Llama-3.1-8B-Instruct", parameters: 8.0e9 },
          requests: { trace: { file: CODE_TRACE, rateScale: 4 * CODE_RATE_PER_REPLICA } },
          priority: 0,
        });
    }
  }
  return {
    apiVersion: "flightdeck/v1",
    kind: "Scenario",
    metadata: { name: `power-outcome-${racks}` },
    jobs,
  };
}
