// The throwaway cluster and free ports live in tools/ (the benchmarks use them too).
export { type Cluster, freePort, startCluster } from "../../tools/postgres.ts";
