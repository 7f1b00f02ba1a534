/**
 * A poller for one Redfish service: discovers once, then each poll re-reads only the leaves found.
 * It discovers again when the service's shape may have changed or was not fully seen: on demand;
 * after a poll met a 404 (a resource moved or went away) or a discovery had errors (an
 * unreachable BMC), once the inventory is `retryDiscoveryMs` old; and every `rediscoverMs`.
 */
import type { RedfishClient } from "./client.ts";
import { discoverRedfish } from "./discover.ts";
import { pollRedfish } from "./poll.ts";
import type { RedfishInventory, RedfishSnapshot } from "./types.ts";

export interface RedfishPollerOptions {
  client: RedfishClient;
  /** Full rediscovery period. Default 10 minutes. */
  rediscoverMs?: number;
  /** Least age of an inventory rediscovered for a 404 or for discovery errors. Default 30 s. */
  retryDiscoveryMs?: number;
  /** Clock, ms since the epoch. */
  now?: () => number;
}

/**
 * Polls one service.
 *
 * @example
 *   const poller = createRedfishPoller({ client: createRedfishClient({ baseUrl: "https://pdu7" }) });
 *   const snap = await poller.poll(); // discovers first
 *   for (const c of snap.circuits) console.log(c.uri, c.powerWatts, c.currentAmps, "/", c.ratedAmps);
 */
export interface RedfishPoller {
  /** The inventory polls read, undefined before the first discovery. */
  readonly inventory: RedfishInventory | undefined;
  /** Discovers now; concurrent callers share one discovery. */
  discover(): Promise<RedfishInventory>;
  /** Reads every leaf once, discovering first when due. Never throws. */
  poll(): Promise<RedfishSnapshot>;
}

const DEFAULT_REDISCOVER_MS = 10 * 60_000;
const DEFAULT_RETRY_DISCOVERY_MS = 30_000;

export function createRedfishPoller(options: RedfishPollerOptions): RedfishPoller {
  const { client } = options;
  const now = options.now ?? Date.now;
  const rediscoverMs = options.rediscoverMs ?? DEFAULT_REDISCOVER_MS;
  const retryMs = options.retryDiscoveryMs ?? DEFAULT_RETRY_DISCOVERY_MS;
  let inventory: RedfishInventory | undefined;
  let running: Promise<RedfishInventory> | undefined;
  let sawNotFound = false;

  const discover = (): Promise<RedfishInventory> => {
    running ??= discoverRedfish(client, now)
      .then((found) => {
        inventory = found;
        sawNotFound = false;
        return found;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const due = (inv: RedfishInventory | undefined): inv is undefined => {
    if (inv === undefined) return true;
    const age = now() - inv.discoveredAtMs;
    // Retries are spaced: a leaf its collection still lists but that answers 404 (a BMC bug)
    // must not make every poll a full discovery.
    return age >= rediscoverMs || ((sawNotFound || inv.errors.length > 0) && age >= retryMs);
  };

  return {
    get inventory() {
      return inventory;
    },
    discover,
    async poll() {
      const inv = due(inventory) ? await discover() : inventory;
      const snapshot = await pollRedfish(client, inv, now);
      if (snapshot.errors.some((e) => e.phase === "poll" && e.status === 404)) sawNotFound = true;
      return snapshot;
    },
  };
}
