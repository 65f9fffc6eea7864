// The browser example (examples/browser) in real headless Chromium, driven by playwright-core:
// the page, served from its own origin, uses the client across origins (CORS, with its
// preflights) to write, read and list records on the real server, and, once the server has
// its watch route, to see a change another client makes. Skipped, saying so, where Chromium
// is not installed (CI installs the Debian package `chromium`).
import "../helpers/test-database.ts";
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { serveExample } from "../../examples/browser/serve.ts";
import { clientFor, whenRoute } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const FILE = "client-browser.test.ts";
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));
if (CHROMIUM === undefined)
  process.stderr.write(`${FILE}: chromium is not installed, so the browser test is skipped\n`);

const example = await serveExample();
const server: TestServer = await startServer({ STORAGE_CORS_ORIGINS: example.origin });
const hasWatch = await whenRoute(server.url, "GET", "/v1/watch", FILE);
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  example.stop();
  await server.close();
});

/** Clicks a button of the page and waits for its outcome in #status. */
async function click(page: Page, id: string): Promise<string> {
  await page.evaluate(() => {
    (document.getElementById("status") as HTMLElement).textContent = "";
  });
  await page.click(`#${id}`);
  await page.waitForFunction(
    () => {
      const text = document.getElementById("status")?.textContent ?? "";
      return text !== "" && text !== "…";
    },
    undefined,
    { timeout: 15_000 },
  );
  return (await page.textContent("#status")) ?? "";
}

test.skipIf(CHROMIUM === undefined)(
  "the example page writes, reads and lists across origins, and watches another client's change",
  async () => {
    const started = performance.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      // the browser logs each 404 it fetches (the absent record, /favicon.ico): not the script's
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        problems.push(`console: ${message.text()}`);
      }
    });
    const { client, token } = await clientFor(server.url, {}, "browser");
    const query = new URLSearchParams({ api: server.url, token });
    await page.goto(`${example.origin}/?${query}`);
    expect(await page.evaluate(() => location.origin)).toBe(example.origin);
    expect(example.origin).not.toBe(server.url);

    await page.fill("#key", "first");
    await page.fill("#value", '{"text": "hello from Chromium"}');
    expect(await click(page, "save")).toMatch(/^saved new at revision \d+$/);
    await page.fill("#value", '{"text": "again"}');
    expect(await click(page, "save")).toMatch(/^saved over at revision \d+$/);
    expect(await click(page, "load")).toMatch(/^loaded revision \d+, updated \d{4}-/);
    expect(JSON.parse((await page.textContent("#record")) ?? "")).toEqual({ text: "again" });
    // the page's writes are the install's: another client reads them
    expect((await client.ns("notes").get("first"))?.value).toEqual({ text: "again" });

    await client.ns("notes").bulkPut([
      { key: "second", value: 2 },
      { key: "third", value: 3 },
    ]);
    expect(await click(page, "list")).toBe("listed 3 keys");
    expect(((await page.textContent("#keys")) ?? "").split("\n")).toEqual(["first", "second", "third"]);

    await page.fill("#key", "absent");
    expect(await click(page, "load")).toBe("not found");
    await page.fill("#value", "{not json");
    expect(await click(page, "save")).toMatch(/SyntaxError|JSON/);

    if (hasWatch) {
      expect(await click(page, "watch")).toBe("watching");
      await Bun.sleep(300);
      await client.ns("notes").put("from-elsewhere", { by: "another client" });
      await page.waitForFunction(
        () => (document.getElementById("events")?.textContent ?? "").includes("put from-elsewhere"),
        undefined,
        { timeout: 15_000 },
      );
    }
    expect(problems).toEqual([]);
    process.stderr.write(`${FILE}: browser run took ${Math.round(performance.now() - started)} ms\n`);
  },
  60_000,
);
