/** What the Redfish services resolve a path to, and small builders for the common shapes. */
import type { WritableNumber } from "./patch.ts";

/** A resource as served: its body now (built per request, from the state), and what PATCH may write. */
export interface Resource {
  body(): object;
  writable?: WritableNumber;
}

/** `{"@odata.id": id}`. */
export const link = (id: string): { "@odata.id": string } => ({ "@odata.id": id });

/** A resource collection (`#ChassisCollection.ChassisCollection` and friends) at `id`. */
export function collection(id: string, type: string, name: string, memberIds: readonly string[]): Resource {
  return {
    body: () => ({
      "@odata.id": id,
      "@odata.type": `#${type}.${type}`,
      Name: name,
      Members: memberIds.map(link),
      "Members@odata.count": memberIds.length,
    }),
  };
}

/** Readings to 0.01 of their unit, as BMCs and PDUs report them. */
export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Energy in kWh to the watt-hour, the resolution PDU energy meters count in. */
export const kWhReading = (joules: number): number => Math.round(joules / 3600) / 1000;

/** Status of a working resource. */
export const STATUS_OK = { State: "Enabled", Health: "OK" } as const;
