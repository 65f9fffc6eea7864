// Work measured where the request is not at hand (a schema validation deep in the write
// pipeline), charged to the install it was admitted as: the HTTP gate registers the admitted
// principal with its install's work budget (http/work-budget.ts), the pipeline reports the
// milliseconds it spent validating for that principal. No budget registered: nothing is
// charged (a tool's direct call, a test of the domain alone).
const meters = new WeakMap<object, (ms: number) => void>();

/** Registers where `principal`'s measured work goes. */
export function meter(principal: object, charge: (ms: number) => void): void {
  meters.set(principal, charge);
}

/** Charges `ms` milliseconds of schema validation to the install admitted as `principal`. */
export function chargeValidation(principal: object, ms: number): void {
  meters.get(principal)?.(ms);
}
