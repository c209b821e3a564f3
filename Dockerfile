# syntax=docker/dockerfile:1
# One image for every service: SERVICES (e.g. "api" or "orders,payments") picks what a
# container runs. Node's major matches package.json "engines" (22).

# --- build: full dependency tree (TypeScript, the `node` devDependency) and the compiled dist/
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime dependencies only: --omit=dev leaves out TypeScript, jest and the `node` devDependency
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- final image: dist/ + production node_modules, owned by root (read-only to the app) and run
# as the unprivileged `node` user (uid 1000)
FROM node:22-bookworm-slim
# DATA_DIR: /app belongs to root, so the embedded default's NeDB files go to /tmp (the one
# writable place, an emptyDir in k8s/); set MONGO_URI for data that outlives the container.
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    DATA_DIR=/tmp/commerce-mesh-data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
# numeric (the image's `node` user) so Kubernetes can verify runAsNonRoot
USER 1000:1000
# 3000: HTTP gateway (only where SERVICES includes api); 3030: Prometheus metrics and 3100:
# /health/live and /health/ready (every node)
EXPOSE 3000 3030 3100
# Every node answers /health/ready on HEALTH_PORT (3100): ready once NATS and its database answer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "deploy/healthcheck.mjs"]
# `node` is PID 1, so SIGTERM reaches the broker directly, which lets in-flight requests
# finish (tracking, shutdownTimeout 10 s) before it stops; `npm start` would not forward it.
# The flag keeps the logs' request ids off promise hooks (middlewares/log-context.ts).
CMD ["node", "--experimental-async-context-frame", "dist/main.js"]
