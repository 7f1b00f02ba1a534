/**
 * The contract between the reconciler and whatever sets caps on equipment (Redfish BMCs here; a
 * node agent or NVML later). A driver knows how to reach one target; it keeps no desired state.
 */

/** A cap as the controller shows it; each value undefined where the controller omits it. */
export interface CapReading {
  /** The limit last ordered (Redfish `SetPoint`). */
  setPointWatts: number | undefined;
  /** The allowed range (Redfish `AllowableMin` / `AllowableMax`). */
  minWatts: number | undefined;
  maxWatts: number | undefined;
  /** The power the limit acts on now (a GPU's `PowerWatts`, a control's `Sensor.Reading`). */
  readingWatts: number | undefined;
}

/**
 * Sets and reads power caps of targets named by model id: `gpu:NODE/ORDINAL` or `node:NODE`.
 *
 * Contract: `write` resolves once the controller accepted the cap, which may act later (a BMC's
 * control delay); `read` shows what the controller holds now. Both fail with EnforceError, after
 * the driver's own retries of transient failures. A write that fails with `refused` changed
 * nothing; after any other failure the cap in force is unknown. Requests for targets with the
 * same `controllerOf` share that controller's connection bound.
 */
export interface CapDriver {
  /** The controller answering for `target` (a BMC: the node's name). */
  controllerOf(target: string): string;
  read(target: string): Promise<CapReading>;
  write(target: string, watts: number): Promise<void>;
  /** Closes kept-alive connections. */
  close(): void;
}
