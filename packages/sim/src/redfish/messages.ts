/**
 * Redfish responses: JSON bodies and the error envelope of DSP0266 with messages from the DMTF
 * Base message registry. Message texts, severities and resolutions are those of Base.1.16.0 as
 * OpenBMC bmcweb ships it (redfish-core/include/registries/base_message_registry.hpp, generated
 * from the DMTF registry file).
 */
import type { ServerResponse } from "node:http";
import { send } from "../server.ts";

/** The Base registry whose message ids the twin answers with (`Base.1.16.0.PropertyUnknown`). */
export const BASE_REGISTRY = "Base.1.16.0";

/** The `@odata.type` of an entry in `@Message.ExtendedInfo`. */
const MESSAGE_TYPE = "#Message.v1_1_1.Message";

interface MessageDef {
  message: string;
  severity: "OK" | "Warning" | "Critical";
  resolution: string;
}

const correct =
  "Correct the value for the property in the request body and resubmit the request if the operation failed.";

/** The Base registry messages the twin uses; `%1`, `%2` are replaced by the message args. */
const BASE = {
  GeneralError: {
    message:
      "A general error has occurred.  See Resolution for information on how to resolve the error, or @Message.ExtendedInfo if Resolution is not provided.",
    severity: "Critical",
    resolution: "None.",
  },
  MalformedJSON: {
    message:
      "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
    severity: "Critical",
    resolution: "Ensure that the request body is valid JSON and resubmit the request.",
  },
  EmptyJSON: {
    message:
      "The request body submitted contained an empty JSON object and the service is unable to process it.",
    severity: "Warning",
    resolution: "Add properties in the JSON object and resubmit the request.",
  },
  PayloadTooLarge: {
    message: "The supplied payload exceeds the maximum size supported by the service.",
    severity: "Critical",
    resolution: "Check that the supplied payload is correct and supported by this service.",
  },
  PropertyNotWritable: {
    message: "The property %1 is a read only property and cannot be assigned a value.",
    severity: "Warning",
    resolution: "Remove the property from the request body and resubmit the request if the operation failed.",
  },
  PropertyUnknown: {
    message: "The property %1 is not in the list of valid properties for the resource.",
    severity: "Warning",
    resolution:
      "Remove the unknown property from the request body and resubmit the request if the operation failed.",
  },
  PropertyValueOutOfRange: {
    message: "The value '%1' for the property %2 is not in the supported range of acceptable values.",
    severity: "Warning",
    resolution: correct,
  },
  PropertyValueTypeError: {
    message: "The value '%1' for the property %2 is of a different type than the property can accept.",
    severity: "Warning",
    resolution: correct,
  },
  InvalidURI: {
    message: "The URI %1 was not found.",
    severity: "Critical",
    resolution: "Provide a valid URI and resubmit the request.",
  },
  OperationNotAllowed: {
    message: "The HTTP method is not allowed on this resource.",
    severity: "Critical",
    resolution: "None.",
  },
} as const satisfies Record<string, MessageDef>;

/** A Base registry message name. */
export type BaseMessage = keyof typeof BASE;

/** One entry of `@Message.ExtendedInfo`. */
export interface RedfishMessage {
  "@odata.type": string;
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  RelatedProperties?: string[];
  Severity: string;
  Resolution: string;
}

/** A Base registry message with its args filled in; `property` (a path like `A/B`) becomes RelatedProperties. */
export function baseMessage(name: BaseMessage, args: string[] = [], property?: string): RedfishMessage {
  const def: MessageDef = BASE[name];
  const out: RedfishMessage = {
    "@odata.type": MESSAGE_TYPE,
    MessageId: `${BASE_REGISTRY}.${name}`,
    Message: def.message.replace(/%(\d)/g, (_, i: string) => args[Number(i) - 1] ?? ""),
    MessageArgs: args,
    Severity: def.severity,
    Resolution: def.resolution,
  };
  if (property !== undefined) out.RelatedProperties = [`#/${property}`];
  return out;
}

/** The DSP0266 error envelope: a general error whose ExtendedInfo lists what went wrong. */
export function errorBody(messages: RedfishMessage[]): object {
  const general = baseMessage("GeneralError");
  return {
    error: { code: general.MessageId, message: general.Message, "@Message.ExtendedInfo": messages },
  };
}

/** Answers a resource as `application/json` with the OData version header Redfish requires. */
export function sendJson(res: ServerResponse, status: number, body: object): void {
  res.setHeader("OData-Version", "4.0");
  send(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}

/** Answers an error status with the error envelope. */
export function sendError(res: ServerResponse, status: number, ...messages: RedfishMessage[]): void {
  sendJson(res, status, errorBody(messages));
}
