#!/usr/bin/env bash
# Builds the container image from Containerfile and checks a server started from it: /healthz,
# /readyz, and a customer linked and looked up, on SQLite (the image's default) and, when
# TEST_DATABASE_URL is set, on PostgreSQL.
#
# This machine reaches no image registry, so the base is made here: a Debian bookworm minbase
# (debootstrap) with this machine's Node 20 copied in, imported with `podman import`. The image is
# built with `podman build --isolation=chroot`, and the server is started from it with
# `buildah run --isolation=chroot`, which shares the host's network. (`podman run` cannot start
# containers on this machine: crun refuses its hybrid cgroups. Elsewhere, use podman run or docker.)
#
#   bash scripts/container-test.sh        # as root; installs podman, buildah, debootstrap if missing
#   KEEP_IMAGE=1 bash scripts/container-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION="$(node --version)"
BASE_IMAGE="localhost/identity-service-base:bookworm-node-${NODE_VERSION#v}"
IMAGE="localhost/identity-service:ci-$$"
WORK="$(mktemp -d /var/tmp/identity-container.XXXXXX)"
CONTAINER=""
SERVER_PID=""
SCRATCH=""

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$CONTAINER" ]; then buildah rm "$CONTAINER" >/dev/null 2>&1 || true; fi
  if [ -z "${KEEP_IMAGE:-}" ]; then podman rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
  if [ -n "$SCRATCH" ]; then psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS ${SCRATCH} WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "::: container tools"
if ! command -v podman >/dev/null || ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq podman buildah debootstrap >/dev/null
fi

echo "::: base image ${BASE_IMAGE}"
if ! podman image exists "$BASE_IMAGE"; then
  # python3, make and g++ are there so that better-sqlite3 compiles from source without apt in
  # the build (the Containerfile installs them itself on a base that lacks them).
  debootstrap --variant=minbase --include=ca-certificates,python3,make,g++ bookworm "$WORK/rootfs" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; exit 1; }
  # This machine's Node 20: the binary, npm, and the headers native modules compile against.
  install -m 0755 "$(command -v node)" "$WORK/rootfs/usr/local/bin/node"
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  mkdir -p "$WORK/rootfs/usr/local/lib/node_modules" "$WORK/rootfs/usr/local/include"
  cp -a "$node_prefix/lib/node_modules/npm" "$WORK/rootfs/usr/local/lib/node_modules/npm"
  cp -a "$node_prefix/include/node" "$WORK/rootfs/usr/local/include/node"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$WORK/rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$WORK/rootfs/usr/local/bin/npx"
  rm -rf "$WORK/rootfs/var/cache/apt/archives"/*.deb "$WORK/rootfs/var/lib/apt/lists"/*
  tar -C "$WORK/rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV npm_config_nodedir=/usr/local' \
    --change 'CMD ["node"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$WORK/rootfs"
fi

echo "::: podman build"
# The host's npm cache is lent to the build's RUN steps, so that npm ci downloads little.
mkdir -p "${HOME}/.npm"
podman build --isolation=chroot --format docker --force-rm --build-arg "BASE=${BASE_IMAGE}" \
  --volume "${HOME}/.npm:/root/.npm" -f Containerfile -t "$IMAGE" . </dev/null >"$WORK/build.log" 2>&1 ||
  { tail -n 40 "$WORK/build.log"; exit 1; }
tail -n 3 "$WORK/build.log"

echo "::: the image"
inspect() { podman image inspect --format "$1" "$IMAGE"; }
[ "$(inspect '{{.Config.User}}')" = identity ] || { echo "the image must run as the user identity"; exit 1; }
inspect '{{json .Config.Healthcheck}}' | grep -q '/healthz' || { echo "the image has no HEALTHCHECK on /healthz"; exit 1; }
inspect '{{json .Config.Volumes}}' | grep -q '/app/data' || { echo "/app/data is not a volume"; exit 1; }
CONTAINER="$(buildah from "$IMAGE")"
buildah run --isolation=chroot "$CONTAINER" -- sh -c '
  test "$(id -u)" != 0 || { echo "runs as root"; exit 1; }
  for dev in vitest typescript @biomejs/biome esbuild playwright-core tsx; do
    test ! -e "node_modules/$dev" || { echo "dev dependency in the image: $dev"; exit 1; }
  done
  node bin/identity-service.js --version' </dev/null

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Starts the server from the image with the given DATABASE_URL and checks it over HTTP.
check_server() {
  local database_url="$1" port key
  port="$(free_port)"
  key="container-test-admin-key-$RANDOM$RANDOM"
  buildah run --isolation=chroot \
    --env "PORT=${port}" --env "HOST=127.0.0.1" --env "BOOTSTRAP_API_KEY=${key}" \
    --env "DATABASE_URL=${database_url}" --env "LOG_LEVEL=warn" \
    "$CONTAINER" -- node dist/server.js </dev/null >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  BASE_URL="http://127.0.0.1:${port}" API_KEY="$key" node scripts/container-check.mjs ||
    { echo "--- server log"; cat "$WORK/server.log"; exit 1; }
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

echo "::: a server from the image, on SQLite (the image's default database, on its /app/data volume)"
check_server "sqlite:/app/data/identity.db"

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "::: a server from the image, on PostgreSQL"
  SCRATCH="identity_container_$(date +%s)_$$"
  psql "$TEST_DATABASE_URL" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE ${SCRATCH}"
  pg_url="$(node -e 'const u=new URL(process.argv[1]);u.pathname="/"+process.argv[2];console.log(u.href)' "$TEST_DATABASE_URL" "$SCRATCH")"
  check_server "$pg_url"
fi

echo "::: container test passed"
