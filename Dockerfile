# baton's daemon (`baton serve`) as an image. docs/deploy.md explains how to run it, on one
# machine or several; deploy/kubernetes/ holds manifests that use it.
#
#   docker build -t baton:0.1.0 .
#   docker run -d --name baton -p 127.0.0.1:7430:7430 -v baton-state:/var/lib/baton \
#     -e BATON_STORE='postgres://baton:<password>@db.example.internal:5432/baton?sslmode=verify-full' baton:0.1.0
#   docker exec baton node dist/cli/bin.js auth token create agents    # a client token, shown once
#
# Without BATON_STORE the daemon keeps its state in SQLite in the volume: one daemon, and the
# volume must outlive the container.
#
# No HEALTHCHECK: over TCP every request needs a token or an HMAC signature, /v1/health
# included (src/server/api.ts authenticates before it routes), and this CMD has no unix
# socket. The Kubernetes manifests keep the socket and probe through it.

# ---- build: every dependency, the TypeScript build, then the dev dependencies pruned ----
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the install scripts of the dev dependencies fetch a second Node.js
# (the `node` package pins one for checkouts; this image has its own) and unpack
# embedded-postgres (benchmarks and tests); the build needs neither. It also skips the
# `prepare` build, which runs below on the sources copied after this layer.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts scripts/
COPY src/ src/
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: Node 24, the production dependencies and dist/, a user of its own ----
FROM node:24-slim
ENV NODE_ENV=production \
    BATON_HOME=/var/lib/baton/state
# The state directory (daemon record and lock, logs, tokens.json, hmac.key, the socket,
# and the SQLite database when there is no BATON_STORE) lives in the volume; baton makes
# BATON_HOME itself, mode 0700, on the first start.
RUN groupadd --system --gid 10001 baton \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/baton --shell /usr/sbin/nologin baton \
 && mkdir -p /var/lib/baton \
 && chown 10001:10001 /var/lib/baton \
 && chmod 0700 /var/lib/baton
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 10001:10001
VOLUME ["/var/lib/baton"]
EXPOSE 7430
# node runs as PID 1: baton serve installs its own SIGTERM and SIGINT handlers, drains and exits 0.
ENTRYPOINT ["node", "dist/cli/bin.js"]
CMD ["serve", "--no-socket", "--listen", "0.0.0.0:7430", "--foreground"]
