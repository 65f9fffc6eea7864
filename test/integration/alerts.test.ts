// The shipped alert rules are valid and behave as their unit tests say (promtool, from
// Debian's prometheus package; .ci/run installs it).
import { expect, test } from "bun:test";
import { fileURLToPath } from "node:url";

const promtool = Bun.which("promtool");
const dir = fileURLToPath(new URL("../../deploy/prometheus/", import.meta.url));

if (promtool === null) {
  test.skip("alert rules (skipped: promtool is not installed; apt-get install prometheus)", () => {});
} else {
  test.each([
    ["check rules", "alerts.yml"],
    ["test rules", "alerts.test.yml"],
  ])("promtool %s %s", async (command, file) => {
    const proc = Bun.spawn([promtool, ...command.split(" "), file], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    expect({ code, out: out + err }).toEqual({ code: 0, out: expect.stringContaining("SUCCESS") });
  });
}
