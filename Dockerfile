# syntax=docker/dockerfile:1
# piPDU image: every agent (pipdu start | broker | pdu | panel | gateway | sim) from one image.
# Multi-arch:  docker buildx build --platform linux/amd64,linux/arm64 -t pipdu .
# The TypeScript is compiled in the build stage; bin/pipdu.js runs that build (dist/).

ARG NODE_VERSION=22

# ---- deps: production node_modules, with the native I2C/GPIO modules compiled for the target ----
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
# i2c-bus and epoll (rpi-gpio) are optional dependencies with node-gyp builds. npm 11 runs install
# scripts only for the packages listed in package.json "allowScripts". An optional dependency that
# fails to build is skipped silently, so the require() below fails the image build instead.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts skips the package's own build (the next stage does it), rebuild compiles the natives.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild i2c-bus epoll \
 && node -e "require('i2c-bus')"

# ---- build: TypeScript to dist/ (plain JavaScript: about 38 MB less per process than running through tsx) ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The embedded broker's fixes to Aedes (patches/; npm ci applies them through postinstall elsewhere).
RUN npx patch-package && node scripts/build.js

# ---- runtime: no compiler, no dev dependencies, no npm, not root ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="piPDU" \
      org.opencontainers.image.description="Smart rack PDU agents: pdu-agent, panel-agent, gateway, embedded broker" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    PIPDU_STATE_DIR=/var/lib/pipdu
WORKDIR /app
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && mkdir -p /var/lib/pipdu \
 && chown node:node /var/lib/pipdu
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/node_modules/aedes ./node_modules/aedes
# Sources stay owned by root: the agents cannot rewrite their own code. .dockerignore keeps tests,
# firmware, docs and benchmarks out.
COPY . .
COPY --from=build /app/dist ./dist
USER node
VOLUME ["/var/lib/pipdu"]
EXPOSE 1883 9001 8080 8081 16421
ENTRYPOINT ["node", "bin/pipdu.js"]
CMD ["start"]
