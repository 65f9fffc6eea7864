// The contract's body shapes with this deployment's limits applied: the contract's shapes are
// the same everywhere (a client imports them), while the item counts and value bytes a server
// accepts come from its configuration (STORAGE_MAX_BULK_*, STORAGE_MAX_VALUE_BYTES).
import { CloneType, type TSchema } from "@sinclair/typebox";
import { S } from "../contract/index.ts";

type Limits = { maxBulkItems: number; maxBulkKeys: number; maxValueBytes: number };
type Node = { anyOf?: Node[]; properties?: Record<string, { type?: unknown; maxItems?: number; maximum?: number }> };

/** A copy of `schema` whose `items` / `keys` arrays (of each variant of a union) hold at most `maxItems`. */
function withMaxItems<T extends TSchema>(schema: T, maxItems: number): T {
  const copy = CloneType(schema);
  const visit = (node: Node) => {
    for (const variant of node.anyOf ?? []) visit(variant);
    for (const name of ["items", "keys", "ops", "checks"]) {
      const list = node.properties?.[name];
      if (list?.type === "array") list.maxItems = maxItems;
    }
  };
  visit(copy as Node);
  return copy;
}

function withMaximum<T extends TSchema>(schema: T, field: string, maximum: number): T {
  const copy = CloneType(schema);
  const property = (copy as Node).properties?.[field];
  if (property !== undefined) property.maximum = maximum;
  return copy;
}

/** The request bodies this deployment accepts. */
export const limitedBodies = (limits: Limits) => ({
  write: S.WriteBody,
  bulkKeys: withMaxItems(S.BulkKeysBody, limits.maxBulkKeys),
  bulkPut: withMaxItems(S.BulkPutBody, limits.maxBulkItems),
  bulkDelete: withMaxItems(S.BulkDeleteBody, limits.maxBulkKeys),
  schema: withMaximum(S.SchemaBody, "maxValueBytes", limits.maxValueBytes),
  limits: S.LimitsBody,
  atomic: withMaxItems(S.AtomicEnvelope, limits.maxBulkItems),
});
