# ext-storage on the official Bun image: dependencies installed in one stage, only the
# production ones copied into a slim runtime that runs as the image's unprivileged `bun`.
#   docker build -t ext-storage .
#   docker run -e DATABASE_URL=… -e STORAGE_JWT_SECRET=… -p 127.0.0.1:3000:3000 ext-storage
# deploy/compose.yaml runs it with PostgreSQL and applies the migrations first.

FROM oven/bun:1.4 AS deps
WORKDIR /app
COPY package.json bun.lock ./
# the patched dependencies (patches/) are applied by bun install
COPY patches ./patches
RUN bun install --frozen-lockfile --production

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
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["bun", "src/cli/healthcheck.ts"]
# bun itself is PID 1 (no `bun run`, no shell), so SIGTERM reaches the server, which drains
# in-flight requests for up to 10 s: give `docker stop` more than that (compose does).
CMD ["bun", "src/main.ts"]
