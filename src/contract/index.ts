// The contract (spec sections 5 and 6) as one module: shapes, query, error codes and their
// details. It imports nothing of the server (only TypeBox), so that the server, its tests and
// a client package all import the same definitions.
export * from "./errors.ts";
export * as S from "./schemas.ts";
export { ID_PATTERN, MAX_TTL_SECONDS } from "./schemas.ts";
