// SIGTERM to `bun run start`: the server stops accepting, the request in flight finishes,
// the pool closes and the process exits 0.
import "../helpers/test-database.ts";
import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { freePort } from "../helpers/postgres.ts";
import { newInstall, TEST_SECRET, tokenFor } from "../helpers/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Resolves with the socket once connected, rejects with the connection error (ECONNREFUSED…). */
const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("SIGTERM lets the request in flight finish, refuses new connections and exits 0", async () => {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "run", "start"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: process.env.DATABASE_URL,
      STORAGE_JWT_SECRET: TEST_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  try {
    await until(
      "the server to listen",
      () =>
        fetch(`http://127.0.0.1:${port}/readyz`)
          .then((r) => r.status === 200)
          .catch(() => false),
      15_000,
    );

    // A PUT whose body is still arriving: in flight from the server's point of view.
    const token = await tokenFor(newInstall("shutdown"));
    const body = JSON.stringify({ value: { slow: true } });
    const socket = await open(port);
    let response = "";
    socket.on("data", (chunk) => (response += chunk));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.write(
      `PUT /v1/namespaces/shutdown/records/slow HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 5)}`,
    );
    await Bun.sleep(200);

    proc.kill("SIGTERM");
    await until(
      "new connections to be refused",
      () =>
        open(port).then(
          (s) => {
            s.destroy();
            return false;
          },
          (error) => error.code === "ECONNREFUSED",
        ),
      5_000,
    );

    socket.write(body.slice(5));
    await closed;
    expect(response).toStartWith("HTTP/1.1 201");
    expect(response).toContain('"key":"slow"');
    expect(await proc.exited).toBe(0);
    expect(await stderr).toContain('"msg":"draining"');
  } finally {
    proc.kill("SIGKILL");
  }
});
