export async function runServers(_: {
  databaseUrl: string;
  requests: number;
  concurrency: number;
  rounds: number;
  workers: number[];
}): Promise<unknown> {
  return undefined;
}
