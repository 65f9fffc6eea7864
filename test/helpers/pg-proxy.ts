// A loopback TCP proxy in front of the test database, for what only the wire shows: how
// many round trips a request takes, and connections that die without the service noticing.
import type { Socket, TCPSocketListener } from "bun";

type Link = {
  upstream?: Socket<Link>;
  client: Socket<Link>;
  pending: Uint8Array[];
  answered: boolean;
  /** cut upstream while idle: the client learns it only when it next sends */
  cut: boolean;
};

export type PgProxy = {
  /** the database URL, through the proxy */
  url: string;
  /** Round trips made while fn ran: each time a client sent after an answer reached it. */
  countRounds(fn: () => Promise<unknown>): Promise<number>;
  /** Ends every connection's upstream side now; each client connection is closed only when
   * it next sends (what a client sees of a server that went away while it was idle). */
  cutIdle(): void;
  stop(): void;
};

/** answerDelayMs: each answer of the database reaches the client that much later, so that
 * what a client pipelines is seen as one round. */
export function startPgProxy(databaseUrl: string, answerDelayMs = 0): PgProxy {
  const target = new URL(databaseUrl);
  const links = new Set<Link>();
  let rounds = 0;
  const deliver = (link: Link, chunk: Uint8Array) => {
    link.answered = true;
    link.client.write(chunk);
  };
  const listener: TCPSocketListener<Link> = Bun.listen<Link>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const link: Link = { client, pending: [], answered: true, cut: false };
        client.data = link;
        links.add(link);
        void Bun.connect<Link>({
          hostname: target.hostname,
          port: Number(target.port),
          data: link,
          socket: {
            open(upstream) {
              link.upstream = upstream;
              for (const chunk of link.pending) upstream.write(chunk);
              link.pending = [];
            },
            data(_upstream, chunk) {
              const copy = new Uint8Array(chunk);
              if (answerDelayMs === 0) deliver(link, copy);
              else setTimeout(() => deliver(link, copy), answerDelayMs);
            },
            close() {
              if (!link.cut) setTimeout(() => link.client.end(), answerDelayMs * 2);
            },
          },
        }).catch(() => link.client.end());
      },
      data(client, chunk) {
        const link = client.data;
        if (link.cut) {
          client.terminate();
          return;
        }
        if (link.answered) rounds++;
        link.answered = false;
        if (link.upstream === undefined) link.pending.push(new Uint8Array(chunk));
        else link.upstream.write(chunk);
      },
      close(client) {
        links.delete(client.data);
        client.data?.upstream?.end();
      },
    },
  });
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(listener.port);
  return {
    url: url.toString(),
    async countRounds(fn) {
      await Bun.sleep(answerDelayMs * 4);
      const before = rounds;
      await fn();
      return rounds - before;
    },
    cutIdle() {
      for (const link of links) {
        link.cut = true;
        link.upstream?.end();
      }
    },
    stop: () => listener.stop(true),
  };
}
