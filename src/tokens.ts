// Minting tokens for local use and tests, and the embedded mode's development secret.
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
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

/**
 * The embedded mode's HS256 secret: made once in the data folder, readable by its owner only.
 * Reading it needs no hold on the folder (`bun run token` mints for the server that runs on
 * it), so it is created whole and at once: written aside, then linked into place, which fails
 * if another process got there first. A server starting and `bun run token` at the same
 * moment then agree on one secret, and neither reads a half-written file.
 */
export function devSecret(dataDir: string): string {
  const file = join(dataDir, "dev-jwt-secret");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const draft = `${file}.${process.pid}.${randomBytes(6).toString("hex")}`;
    writeFileSync(draft, `${randomBytes(48).toString("base64url")}\n`, { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    } finally {
      unlinkSync(draft);
    }
  }
  return readFileSync(file, "utf8").trim();
}
