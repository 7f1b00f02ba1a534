/** Why the power service refused an input: one error type carrying a stable code and the place. */

export type PowerErrorCode =
  /** A budget cannot hold the minimum caps of what runs under it. */
  | "budget-below-minimum"
  /** Two budget sets overlap without one containing the other (see budget.ts). */
  | "budgets-cross"
  /** A power device is fed by more than one upstream device. */
  | "multiple-upstream"
  /** An override or target names something unknown or asks for an unsafe value. */
  | "bad-override"
  | "bad-target"
  /** A budget's parent or a GPU's budget is not in the list, or parents form a cycle. */
  | "bad-budget"
  /** A job names an unknown GPU, shares one with another job, or has an empty cap range. */
  | "bad-job";

/** A refused power input; `message` names the place and the reason. */
export class PowerError extends Error {
  readonly code: PowerErrorCode;
  constructor(code: PowerErrorCode, message: string) {
    super(message);
    this.name = "PowerError";
    this.code = code;
  }
}
