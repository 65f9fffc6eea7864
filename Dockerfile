# ext-storage on the official Bun image: dependencies installed in one stage, only the
# production ones copied into a slim runtime that runs as the image's unprivileged `bun`
# (uid 1000, gid 1000).
#   docker build -t ext-storage .
#   docker run --stop-timeout 15 -e DATABASE_URL=… -e STORAGE_JWT_SECRET=… -p 127.0.0.1:3000:3000 ext-storage
# --stop-timeout 15: docker stop waits 10 s by default, exactly the server's drain; give it more.
# The embedded database in a bind-mounted folder needs that folder writable by uid 1000
# (otherwise EACCES at start): `chown 1000:1000 ./data` before
#   docker run --stop-timeout 15 -v "$PWD/data:/app/.data" -p 127.0.0.1:3000:3000 ext-storage
# or run as the folder's owner: --user "$(id -u):$(id -g)".
# deploy/compose.yaml runs it with PostgreSQL and applies the migrations first.

FROM oven/bun:1.4 AS deps
WORKDIR /app
COPY package.json bun.lock ./
# the patched dependencies (patches/) are applied by bun install
COPY patches ./patches
# --omit peer: --production alone still installs peer dependencies, and the runtime ones
# declare TypeScript and type packages as peers (about 40 MB: typescript, @typescript/*,
# @types/*, bun-types), none of which the server loads
RUN bun install --frozen-lockfile --production --omit peer

FROM oven/bun:1.4-slim AS runtime
WORKDIR /app
# dbmate's npm launcher starts with `#!/usr/bin/env node`; Bun runs it as node.
RUN ln -sf /usr/local/bin/bun /usr/local/bin/node \
 && mkdir -p /app/.data && chown bun:bun /app/.data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY sql ./sql
COPY db ./db
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    STORAGE_DATA_DIR=/app/.data
USER bun
EXPOSE 3000
# its GET /healthz is logged at debug, like every probe, so it adds no line at LOG_LEVEL=info
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["bun", "src/cli/healthcheck.ts"]
# bun itself is PID 1 (no `bun run`, no shell), so SIGTERM reaches the server, which drains
# in-flight requests for up to 10 s: give `docker stop` more than that (compose does).
CMD ["bun", "src/main.ts"]
