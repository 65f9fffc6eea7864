// Who a request acts for. The token alone decides it (spec section 2): nothing in the URL or
// the body can widen the install a request touches.
import { errors as joseErrors, jwtVerify } from "jose";
import { BoundedMap } from "../bounded-map.ts";
import { ID_PATTERN } from "../contract/schemas.ts";
import { AppError, fail } from "../errors.ts";

const SCOPES = ["storage:read", "storage:write", "storage:schema", "storage:admin"] as const;
export type Scope = (typeof SCOPES)[number];

export type Principal = Readonly<{
  tenantId: string | undefined;
  extensionId: string | undefined;
  installId: string | undefined;
  scopes: ReadonlySet<Scope>;
  expiresAt: number;
}>;

/** A principal that names an install: every /v1 record route needs one. */
export type InstallPrincipal = Principal & { tenantId: string; extensionId: string; installId: string };

export type AuthOptions = { secret: string; audience: string; issuer: string | undefined };

const CLOCK_SKEW_SECONDS = 30;
const CACHE_MAX = 10_000;

// RFC 6750 §2.1: the scheme is case-insensitive (RFC 9110 §11.1), then one or more spaces
const BEARER = /^bearer +(\S+)$/i;
const B64TOKEN = /^[A-Za-z0-9._~+/=-]+$/;

/** The credentials of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(authorization: string | null): string | undefined {
  return authorization === null ? undefined : BEARER.exec(authorization)?.[1];
}

const unauthenticated = (message: string) => fail("UNAUTHENTICATED", message);

export function createAuthenticator(options: AuthOptions) {
  const key = new TextEncoder().encode(options.secret);
  // Verified tokens, until they expire. Bounded: when full, the least recently used goes. A
  // verification costs ~66 µs, a cached lookup ~0.4 µs (bun run bench).
  const cache = new BoundedMap<string, Principal>(CACHE_MAX);

  async function verify(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        audience: options.audience,
        issuer: options.issuer,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated("the token has expired");
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        throw unauthenticated(`the token's ${error.claim} claim is not accepted`);
      }
      throw unauthenticated("the token is malformed or not signed with the expected key and algorithm");
    }
    const scopeClaim = payload.scope;
    if (typeof scopeClaim !== "string") throw unauthenticated("the token has no scope claim");
    const scopes = new Set<Scope>();
    for (const s of scopeClaim.split(" ").filter(Boolean)) {
      if (!(SCOPES as readonly string[]).includes(s)) throw unauthenticated(`unknown scope "${s}"`);
      scopes.add(s as Scope);
    }
    const id = (claim: string): string | undefined => {
      const value = payload[claim];
      if (value === undefined) return undefined;
      if (typeof value !== "string" || !ID_PATTERN.test(value)) {
        throw unauthenticated(`the ${claim} claim must be 1–128 characters of [A-Za-z0-9._:-]`);
      }
      return value;
    };
    const principal: Principal = Object.freeze({
      tenantId: id("tenant_id"),
      extensionId: id("extension_id"),
      installId: id("install_id"),
      scopes,
      expiresAt: payload.exp as number,
    });
    const named = [principal.tenantId, principal.extensionId, principal.installId].filter(Boolean).length;
    if (named !== 0 && named !== 3) {
      throw unauthenticated("tenant_id, extension_id and install_id come together");
    }
    if (named === 0 && !scopes.has("storage:admin")) {
      throw unauthenticated("the token names no install");
    }
    return principal;
  }

  return async function authenticate(authorization: string | null): Promise<Principal> {
    const token = bearerToken(authorization);
    if (token === undefined || !B64TOKEN.test(token)) {
      throw unauthenticated("an Authorization: Bearer <token> header is required");
    }
    const nowSeconds = Date.now() / 1000;
    const cached = cache.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt + CLOCK_SKEW_SECONDS > nowSeconds) return cached;
      cache.delete(token);
    }
    const principal = await verify(token);
    cache.set(token, principal);
    return principal;
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

/** The principal, when it holds the scope and names an install. */
export function requireInstall(principal: Principal, scope: Scope): InstallPrincipal {
  if (!principal.scopes.has(scope)) throw fail("FORBIDDEN", `the token lacks the ${scope} scope`);
  if (principal.installId === undefined) {
    throw new AppError("FORBIDDEN", "this route acts on one install: the token names none");
  }
  return principal as InstallPrincipal;
}
