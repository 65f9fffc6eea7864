import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import type { AppError } from "../../src/errors.ts";
import { createAuthenticator, requireInstall } from "../../src/http/auth.ts";

const SECRET = "unit-test-secret-0123456789-abcdefghij";
const key = new TextEncoder().encode(SECRET);
const authenticate = createAuthenticator({ secret: SECRET, audience: "ext-storage", issuer: undefined });
const withIssuer = createAuthenticator({ secret: SECRET, audience: "ext-storage", issuer: "platform" });

const ids = { tenant_id: "t1", extension_id: "e1", install_id: "i1" };
const now = () => Math.floor(Date.now() / 1000);

function sign(claims: Record<string, unknown>, options: { alg?: string; secret?: Uint8Array } = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? "HS256" }).sign(options.secret ?? key);
}
const valid = (extra: Record<string, unknown> = {}) =>
  sign({ ...ids, scope: "storage:read", aud: "ext-storage", exp: now() + 60, ...extra });

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    return (error as AppError).code;
  }
};
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("tokens", () => {
  test("a valid token gives the principal from its claims", async () => {
    const p = await authenticate(`Bearer ${await valid({ scope: "storage:read storage:write" })}`);
    expect(p.installId).toBe("i1");
    expect(p.tenantId).toBe("t1");
    expect([...p.scopes].sort()).toEqual(["storage:read", "storage:write"]);
  });

  test("an admin token needs no install claims", async () => {
    const token = await sign({ scope: "storage:admin", aud: "ext-storage", exp: now() + 60 });
    expect((await authenticate(`Bearer ${token}`)).installId).toBeUndefined();
  });

  const attacks: Array<[string, () => Promise<string | null>]> = [
    ["no header", async () => null],
    ["not a bearer header", async () => `Basic ${await valid()}`],
    ["garbage", async () => "Bearer not-a-jwt"],
    [
      "alg none",
      async () =>
        `Bearer ${b64({ alg: "none" })}.${b64({ ...ids, scope: "storage:read", aud: "ext-storage", exp: now() + 60 })}.`,
    ],
    [
      "HS512 instead of HS256",
      async () =>
        `Bearer ${await sign({ ...ids, scope: "storage:read", aud: "ext-storage", exp: now() + 60 }, { alg: "HS512" })}`,
    ],
    [
      "another secret",
      async () =>
        `Bearer ${await sign({ ...ids, scope: "storage:read", aud: "ext-storage", exp: now() + 60 }, { secret: new TextEncoder().encode("x".repeat(40)) })}`,
    ],
    ["expired beyond the 30 s skew", async () => `Bearer ${await valid({ exp: now() - 31 })}`],
    ["not yet valid", async () => `Bearer ${await valid({ nbf: now() + 120 })}`],
    ["no exp", async () => `Bearer ${await sign({ ...ids, scope: "storage:read", aud: "ext-storage" })}`],
    ["wrong audience", async () => `Bearer ${await valid({ aud: "other" })}`],
    ["no audience", async () => `Bearer ${await sign({ ...ids, scope: "storage:read", exp: now() + 60 })}`],
    [
      "tampered payload",
      async () => {
        const [h, , s] = (await valid()).split(".");
        return `Bearer ${h}.${b64({ ...ids, install_id: "i2", scope: "storage:admin", aud: "ext-storage", exp: now() + 60 })}.${s}`;
      },
    ],
    [
      "tampered signature",
      async () => {
        // four whole characters changed (24 bits): never the signature it was, whatever it ended with
        const token = await valid();
        return `Bearer ${token.slice(0, -8)}${token.slice(-8, -4) === "AAAA" ? "BBBB" : "AAAA"}${token.slice(-4)}`;
      },
    ],
    ["install id outside the alphabet", async () => `Bearer ${await valid({ install_id: "i/1" })}`],
    ["install id too long", async () => `Bearer ${await valid({ install_id: "i".repeat(129) })}`],
    ["install id not a string", async () => `Bearer ${await valid({ install_id: 7 })}`],
    [
      "install claims missing",
      async () => `Bearer ${await sign({ scope: "storage:read", aud: "ext-storage", exp: now() + 60 })}`,
    ],
    [
      "install claims partial",
      async () =>
        `Bearer ${await sign({ install_id: "i1", scope: "storage:read", aud: "ext-storage", exp: now() + 60 })}`,
    ],
    ["scope missing", async () => `Bearer ${await sign({ ...ids, aud: "ext-storage", exp: now() + 60 })}`],
    ["unknown scope", async () => `Bearer ${await valid({ scope: "storage:read storage:everything" })}`],
  ];
  test.each(attacks)("refuses %s with 401", async (_name, make) => {
    expect(await codeOf(authenticate(await make()))).toBe("UNAUTHENTICATED");
  });

  test("30 s of clock skew is allowed", async () => {
    expect(await codeOf(authenticate(`Bearer ${await valid({ exp: now() - 20 })}`))).toBe("accepted");
  });

  test("the issuer is checked when configured", async () => {
    expect(await codeOf(withIssuer(`Bearer ${await valid()}`))).toBe("UNAUTHENTICATED");
    expect(await codeOf(withIssuer(`Bearer ${await valid({ iss: "other" })}`))).toBe("UNAUTHENTICATED");
    expect(await codeOf(withIssuer(`Bearer ${await valid({ iss: "platform" })}`))).toBe("accepted");
  });

  test("scopes are enforced per route; an admin token cannot act as an install", async () => {
    const reader = await authenticate(`Bearer ${await valid()}`);
    expect(requireInstall(reader, "storage:read").installId).toBe("i1");
    expect(() => requireInstall(reader, "storage:write")).toThrow("storage:write");
    const admin = await authenticate(
      `Bearer ${await sign({ scope: "storage:admin storage:read", aud: "ext-storage", exp: now() + 60 })}`,
    );
    expect(() => requireInstall(admin, "storage:read")).toThrow("names none");
  });

  test("a cached token still expires", async () => {
    // valid for 2 more seconds (30 s skew); a margin of a whole second either side
    const token = `Bearer ${await valid({ exp: now() - 28 })}`;
    expect(await codeOf(authenticate(token))).toBe("accepted");
    await Bun.sleep(2100);
    expect(await codeOf(authenticate(token))).toBe("UNAUTHENTICATED");
  });
});
