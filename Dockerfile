# syntax=docker/dockerfile:1
#
# Bima API container image.
#
#   docker build -t bima-api .
#   docker run --rm -p 3000:3000 --env-file prod.env bima-api
#
# Stages: deps (every dependency, for the compiler) -> build (tsc to dist/) ->
# prod-deps (production dependencies only) -> runtime (node:20-bookworm-slim,
# non-root, compiled JavaScript only). The runtime image holds no TypeScript
# sources, tests, dev tools, .git or local data (see .dockerignore).
#
# Configuration is environment variables only (docs/environment.md). With
# NODE_ENV=production the process refuses to start without JWT_PRIVATE_KEYS
# and OTP_SECRET, and names the missing variable (exit code 78).
#
# The command-line tools are compiled too; inside the container run them as
#   node dist/src/cli/migrate.js | create-admin.js | audit-verify.js | generate-keys.js
# (the npm scripts of the same names run the TypeScript sources, which the
# image does not contain).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: all dependencies, exactly as locked --------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
# npm ci's postinstall applies patches/ (patch-package): fixes to postgres.js's connection handling;
# then scripts/start.mjs --prepare, which does nothing here (no src/ yet: it prepares npm start's PGlite template).
COPY patches ./patches
COPY scripts/start.mjs ./scripts/start.mjs
RUN --mount=type=cache,target=/root/.npm npm ci

# --- build: TypeScript -> dist/ (tsconfig.build.json; entry dist/src/server.js)
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && test -f dist/src/server.js

# --- prod-deps: production dependencies only ----------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts/start.mjs ./scripts/start.mjs
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

# --- runtime -------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1: forwards SIGTERM to node and reaps zombies (node also handles
# SIGTERM itself; with tini a `docker run` without --init behaves the same as
# one with it). If you would rather not install it, drop these two lines and
# the ENTRYPOINT, and run with `docker run --init` / compose `init: true`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid (10001) so volume ownership is predictable.
RUN groupadd --system --gid 10001 bima \
 && useradd --system --uid 10001 --gid bima --home-dir /app --no-create-home --shell /usr/sbin/nologin bima

WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# package.json is needed at run time: "type": "module" makes dist/*.js ES modules.
COPY --chown=root:root package.json package-lock.json ./
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist

# DATA_DIR (uploaded documents, the SMS outbox file) is the only place the
# process writes. Code and dependencies stay root-owned and read-only to it.
# A named volume mounted here inherits this ownership on first use.
RUN mkdir -p /app/data && chown bima:bima /app/data && chmod 0750 /app/data

USER 10001:10001
EXPOSE 3000

# Liveness only (the process answers). Readiness (/health/ready: database and
# Redis reachable) is for the load balancer, not for restarting containers.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# SIGTERM: stop accepting, finish in-flight requests within SHUTDOWN_TIMEOUT_MS
# (default 10 s), close PostgreSQL and Redis, exit 0. Give the container a
# longer stop timeout than that (docker stop -t 20 / compose stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/server.js"]
