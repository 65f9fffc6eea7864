// Minting tokens for local use and tests, and the embedded mode's development secret.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";

export type TokenClaims = {
  tenantId?: string;
  extensionId?: string;
  installId?: string;
  scope: string;
};

export type MintOptions = { secret: string; audience: string; issuer?: string; ttlSeconds?: number };

export function mintToken(claims: TokenClaims, options: MintOptions): Promise<string> {
  const jwt = new SignJWT({
    scope: claims.scope,
    ...(claims.tenantId === undefined ? {} : { tenant_id: claims.tenantId }),
    ...(claims.extensionId === undefined ? {} : { extension_id: claims.extensionId }),
    ...(claims.installId === undefined ? {} : { install_id: claims.installId }),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(options.secret));
}

/** The embedded mode's HS256 secret: made once in the data folder, readable by its owner only. */
export function devSecret(dataDir: string): string {
  const file = join(dataDir, "dev-jwt-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
