# The Parley relay as a container image (the desktop app is not in it):
#   docker build -t parley-relay .
#   docker run -d --name parley-relay -p 8080:8080 -v parley-data:/data parley-relay
# Settings are environment variables (relay-server/README.md); docs/SELF-HOSTING.md has the rest.
# Built from the repository root: the relay imports the shared protocol package next to it.

FROM node:20-slim AS deps
WORKDIR /app
# A toolchain for the native addons (better-sqlite3, argon2, sharp), used only when no prebuilt
# binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY relay-server/package.json relay-server/
# npm needs every workspace's manifest to read the lock file, but installs only the two below.
COPY desktop/package.json desktop/
# `install`, not `ci`: see .ci/run (the lock file lacks some optional platform packages of a dev
# tool, which ci refuses). Production dependencies of the relay and the protocol only: no Electron,
# no Svelte, no test tools.
RUN npm install --omit=dev --workspace @parley/relay-server --workspace @parley/shared \
    --no-audit --no-fund \
  && npm cache clean --force
# The relay built to JavaScript (relay-server/dist): the image runs no TypeScript loader.
COPY relay-server/build.ts relay-server/
COPY shared/src shared/src
COPY relay-server/src relay-server/src
RUN npm run build --workspace @parley/relay-server

FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
# node_modules/@parley/* are symlinks to ../../shared and ../../relay-server, copied below.
COPY --from=deps /app/node_modules node_modules
COPY package.json ./
COPY shared/package.json shared/
COPY relay-server/package.json relay-server/
COPY relay-server/bin relay-server/bin
COPY --from=deps /app/relay-server/dist relay-server/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# SIGTERM: the relay stops taking requests, finishes queued writes and closes the database (10 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "relay-server/bin/parley-relay.js"]
