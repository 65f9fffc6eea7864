// The example page's script: the client bundled with it (examples/browser/serve.ts), reading
// and writing the namespace and key the page names, and watching the namespace's changes.
import { StorageClient, StorageError } from "../../packages/client/src/index.ts";

const $ = (id: string) => document.getElementById(id) as HTMLInputElement;
const query = new URLSearchParams(location.search);
for (const field of ["api", "token"]) $(field).value ||= query.get(field) ?? "";

const client = () => new StorageClient({ baseUrl: $("api").value, token: $("token").value });
const ns = () => client().ns($("ns").value);
const show = (id: string, text: string) => {
  $(id).textContent = text;
};
const describe = (error: unknown) =>
  error instanceof StorageError ? `${error.code} (${error.status}): ${error.message}` : String(error);

/** Runs an action of a button, its outcome in #status. */
const on = (id: string, action: () => Promise<string>) =>
  $(id).addEventListener("click", () => {
    show("status", "…");
    action().then(
      (text) => show("status", text),
      (error) => show("status", describe(error)),
    );
  });

on("save", async () => {
  const written = await ns().put($("key").value, JSON.parse($("value").value));
  return `saved ${written.created ? "new" : "over"} at revision ${written.revision}`;
});

on("load", async () => {
  const record = await ns().get($("key").value);
  show("record", record === null ? "" : JSON.stringify(record.value));
  return record === null
    ? "not found"
    : `loaded revision ${record.revision}, updated ${record.updatedAt.toISOString()}`;
});

on("list", async () => {
  const keys: string[] = [];
  for await (const record of ns().list({ values: false, pageSize: 50 })) keys.push(record.key);
  show("keys", keys.join("\n"));
  return `listed ${keys.length} keys`;
});

let watching: AbortController | undefined;
on("watch", async () => {
  watching?.abort();
  const controller = new AbortController();
  watching = controller;
  const events = ns().watch({ signal: controller.signal });
  // the loop runs on in the background; the status says it started
  void (async () => {
    try {
      for await (const change of events) {
        $("events").textContent += `${change.type} ${change.key ?? ""} @${change.revision}\n`;
      }
    } catch (error) {
      if (!controller.signal.aborted) show("status", describe(error));
    }
  })();
  return "watching";
});
