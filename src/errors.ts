// The server's side of the contract's error vocabulary (src/contract/errors.ts): the codes,
// their statuses, the error class and its factories are the contract's; http/errors.ts is the
// one place they become responses.
export { AppError, ERROR_STATUS, type ErrorCode, errors, fail } from "./contract/errors.ts";
