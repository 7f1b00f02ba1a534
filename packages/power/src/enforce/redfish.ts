/**
 * A cap driver over Redfish, one BMC per node (FACTS.md, "How power is controlled"):
 *
 *   gpu:NODE/N   PATCH the GPU's EnvironmentMetrics `{"PowerLimitWatts": {"SetPoint": W}}`
 *                (HGX `Systems/HGX_Baseboard_0/Processors/GPU_SXM_N`, GB200 `Chassis/HGX_ProcessorModule_N`)
 *   node:NODE    PATCH the node's power Control `{"SetPoint": W}` (HGX `Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0`)
 *
 * Targets are found by the telemetry package's discovery (service root → Systems → Processors of
 * ProcessorType GPU, and Chassis → Controls of ControlType Power), once per BMC and again after a
 * 404. A Redfish GPU is the model's GPU with the ordinal its Id ends in (GPU_SXM_3, GPU_3,
 * HGX_ProcessorModule_3 → `gpu:NODE/3`), the rule the collector files Redfish readings by.
 *
 * A node's control and its GPUs' limits act on the same GPUs (the twin splits a node set point
 * evenly over them): a decision should cap a node one way or the other, not both.
 *
 * Each BMC gets its own client: a keep-alive node:http Agent with at most `maxConnectionsPerBmc`
 * sockets, and as many requests in flight (BMCs serve few connections).
 */
import { type EndpointsConfig, expandEndpoint } from "@flightdeck/model";
import {
  type ControlTarget,
  createRedfishClient,
  discoverRedfish,
  type RedfishClient,
  RedfishError,
  type RedfishInventory,
  readBack,
  setControlSetPoint,
  setGpuPowerLimit,
} from "@flightdeck/telemetry";
import type { CapDriver, CapReading } from "./driver.ts";
import { EnforceError, enforceErrorOf } from "./errors.ts";
import { createLimiter, type RetryPolicy, withRetry } from "./limit.ts";
import { type CapTarget, parseCapTarget } from "./target.ts";

/** Options of {@link createRedfishCapDriver}. */
export interface RedfishCapDriverOptions {
  /** The BMC's URL for a node name (`r01-dgx1`): its origin or its service root. */
  bmcUrl: (node: string) => string;
  /** Limit for one request, answer included. Default 5000 ms. */
  timeoutMs?: number;
  /** Tries after the first for network errors, timeouts, 5xx and 429. Default 2. */
  retries?: number;
  /** Wait before the first retry, doubled for each next one (up to 2 s). Default 100 ms. */
  retryDelayMs?: number;
  /** Connections (and requests in flight) per BMC. Default 2. */
  maxConnectionsPerBmc?: number;
  /** Basic auth for every BMC. */
  username?: string;
  password?: string;
  /**
   * The node's power control for `node:NODE` among the BMC's controls of ControlType Power.
   * Default: the NVIDIA HGX total GPU power control (Id starting `TotalGPU_Power`), else the first.
   */
  pickNodeControl?: (controls: readonly ControlTarget[]) => ControlTarget | undefined;
}

/** What one BMC offers: its client and, once discovered, its targets' URIs. */
interface Bmc {
  client: RedfishClient;
  targets: Promise<BmcTargets> | undefined;
}

interface BmcTargets {
  gpus: ReadonlyMap<number, string>;
  control: string | undefined;
  inventory: RedfishInventory;
}

const TRAILING_NUMBER = /(\d+)$/;

const defaultPickNodeControl = (controls: readonly ControlTarget[]) =>
  controls.find((c) => c.id.startsWith("TotalGPU_Power")) ?? controls[0];

/**
 * A cap driver for the BMCs `options.bmcUrl` names.
 *
 * @example
 *   const driver = createRedfishCapDriver({ bmcUrl: (node) => `https://${node}-bmc` });
 *   await driver.write("gpu:r01-dgx1/0", 500);
 *   (await driver.read("gpu:r01-dgx1/0")).setPointWatts; // 500 once the BMC took it
 */
export function createRedfishCapDriver(options: RedfishCapDriverOptions): CapDriver {
  const maxConnections = options.maxConnectionsPerBmc ?? 2;
  createLimiter(maxConnections); // checks the bound once, here, not on first use
  const policy: RetryPolicy = {
    retries: options.retries ?? 2,
    delayMs: options.retryDelayMs ?? 100,
    maxDelayMs: 2000,
  };
  const pickControl = options.pickNodeControl ?? defaultPickNodeControl;
  const bmcs = new Map<string, Bmc>();

  const bmcOf = (node: string): Bmc => {
    let bmc = bmcs.get(node);
    if (bmc === undefined) {
      const client = createRedfishClient({
        baseUrl: options.bmcUrl(node),
        maxConnections,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.username === undefined
          ? {}
          : { username: options.username, password: options.password ?? "" }),
      });
      bmc = { client, targets: undefined };
      bmcs.set(node, bmc);
    }
    return bmc;
  };

  const retrying = <T>(target: string, attempt: () => Promise<T>): Promise<T> =>
    withRetry(
      policy,
      (err) => err instanceof EnforceError && err.retryable,
      async () => {
        try {
          return await attempt();
        } catch (err) {
          throw enforceErrorOf(target, err);
        }
      },
    );

  /** Discovers the BMC's targets; a discovery that could not reach the BMC is not kept. */
  const discover = (t: CapTarget, bmc: Bmc): Promise<BmcTargets> => {
    bmc.targets ??= retrying(t.id, async () => {
      const inventory = await discoverRedfish(bmc.client);
      const gpus = new Map<number, string>();
      for (const g of inventory.gpus) {
        const ordinal = TRAILING_NUMBER.exec(g.id)?.[1];
        if (ordinal !== undefined) gpus.set(Number(ordinal), g.uri);
      }
      const root = inventory.errors.find((e) => e.uri === bmc.client.rootUri);
      if (root !== undefined) throw enforceErrorOf(t.id, rootError(root));
      return { gpus, control: pickControl(inventory.controls)?.uri, inventory };
    });
    const found = bmc.targets;
    found.catch(() => {
      if (bmc.targets === found) bmc.targets = undefined;
    });
    return found;
  };

  const uriOf = async (t: CapTarget, bmc: Bmc): Promise<string> => {
    const targets = await discover(t, bmc);
    const uri = t.kind === "gpu" ? targets.gpus.get(t.ordinal) : targets.control;
    if (uri !== undefined) return uri;
    // Discovery may have missed it because a link failed to load: look again next time.
    if (targets.inventory.errors.length > 0 && bmc.targets !== undefined) bmc.targets = undefined;
    const what = t.kind === "gpu" ? `a GPU with ordinal ${t.ordinal}` : "a power control";
    const errors = targets.inventory.errors.map((e) => e.reason).join("; ");
    throw new EnforceError("not-found", t.id, `the BMC shows no ${what}${errors ? ` (${errors})` : ""}`);
  };

  /** Runs `request` on the target's URI; a 404 drops what discovery found, for the next call. */
  const onTarget = async <T>(id: string, request: (client: RedfishClient, uri: string) => Promise<T>) => {
    const t = parseCapTarget(id);
    const bmc = bmcOf(t.node);
    const uri = await uriOf(t, bmc);
    try {
      return await retrying(id, () => request(bmc.client, uri));
    } catch (err) {
      if (err instanceof EnforceError && err.code === "not-found") bmc.targets = undefined;
      throw err;
    }
  };

  return {
    controllerOf: (target) => parseCapTarget(target).node,
    read: (target) =>
      onTarget(target, async (client, uri): Promise<CapReading> => {
        const r = await readBack(client, { uri });
        return {
          setPointWatts: r.setPointWatts,
          minWatts: r.minWatts,
          maxWatts: r.maxWatts,
          readingWatts: r.readingWatts,
        };
      }),
    write: (target, watts) =>
      onTarget(target, async (client, uri) => {
        if (parseCapTarget(target).kind === "gpu") await setGpuPowerLimit(client, { uri }, watts);
        else await setControlSetPoint(client, { uri }, watts);
      }),
    close() {
      for (const bmc of bmcs.values()) bmc.client.close();
      bmcs.clear();
    },
  };
}

/**
 * The BMC options of a factory's endpoints section (`endpoints.bmc`: a URL template with `{node}`
 * and a timeout); throws EnforceError `not-found` when the section names no BMCs.
 *
 * @example
 *   const driver = createRedfishCapDriver({ ...bmcOptionsFromEndpoints(build.endpoints) });
 */
export function bmcOptionsFromEndpoints(
  endpoints: EndpointsConfig,
): Pick<RedfishCapDriverOptions, "bmcUrl" | "timeoutMs"> {
  const bmc = endpoints.bmc;
  if (bmc === undefined) throw new EnforceError("not-found", "", "the endpoints section names no bmc URL");
  return { bmcUrl: (node) => expandEndpoint(bmc.url, { node }), timeoutMs: bmc.timeoutSeconds * 1000 };
}

/** The service root's read error as the RedfishError it was, so that it maps the same way. */
function rootError(e: RedfishInventory["errors"][number]): RedfishError {
  const detail = e.reason.startsWith(`${e.uri}: `) ? e.reason.slice(e.uri.length + 2) : e.reason;
  return new RedfishError(e.code, e.uri, detail, e.status === undefined ? {} : { status: e.status });
}
