// Serves the browser example: the page, and its script bundled with the client by Bun.build.
//
//   bun examples/browser/serve.ts [port]     then open http://127.0.0.1:<port>/?api=…&token=…
//
// The storage service must allow the page's origin: STORAGE_CORS_ORIGINS=http://127.0.0.1:<port>.
import { fileURLToPath } from "node:url";

const DIR = fileURLToPath(new URL("./", import.meta.url));

export async function serveExample(port = 0) {
  const built = await Bun.build({ entrypoints: [`${DIR}app.ts`], format: "esm", target: "browser", minify: true });
  const script = built.outputs[0];
  if (!built.success || script === undefined) throw new Error(`build failed: ${built.logs.join("\n")}`);
  const js = await script.text();
  const html = await Bun.file(`${DIR}index.html`).text();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
      if (pathname === "/app.js") return new Response(js, { headers: { "content-type": "text/javascript" } });
      return new Response("not found", { status: 404 });
    },
  });
  return { origin: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

if (import.meta.main) {
  const { origin } = await serveExample(Number(process.argv[2] ?? 8080));
  console.log(`example page at ${origin}/ (start the service with STORAGE_CORS_ORIGINS=${origin})`);
}
