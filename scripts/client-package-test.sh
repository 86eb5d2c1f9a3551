#!/usr/bin/env bash
# The client as the runtime gets it: builds packages/client, packs it with npm pack, installs the
# tarball into a scratch project (no registry needed: it has no dependencies), and runs a program
# there that type-checks against the package's declarations and calls a running service.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/identity-client-package.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "::: npm pack @identity-service/client"
npm pack --workspace @identity-service/client --pack-destination "$WORK" --json >"$WORK/pack.json"
TARBALL="$WORK/$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[0].filename)' "$WORK/pack.json")"
tar -tzf "$TARBALL" | sort
# Only what the package promises: its build, README, LICENSE and package.json.
if tar -tzf "$TARBALL" | grep -v -E '^package/(dist/.*\.(js|d\.ts)|README\.md|LICENSE|package\.json)$'; then
  echo "unexpected files in the tarball"; exit 1
fi

echo "::: a scratch project installs the tarball"
mkdir -p "$WORK/app"
cat >"$WORK/app/package.json" <<'JSON'
{ "name": "scratch-runtime", "private": true, "type": "module" }
JSON
(cd "$WORK/app" && npm install --no-audit --no-fund --offline "$TARBALL" >/dev/null)
node -e '
  const pkg = require(process.argv[1] + "/node_modules/@identity-service/client/package.json");
  if (Object.keys(pkg.dependencies ?? {}).length) throw new Error("the client must have no dependencies");
  console.log(`installed ${pkg.name}@${pkg.version}, no dependencies`);
' "$WORK/app"
cp scripts/client-package-check.ts "$WORK/app/check.ts"
# Node's own types from this repository (the scratch project installs nothing but the tarball).
cat >"$WORK/app/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "lib": ["ES2023"],
    "strict": true, "noEmit": true, "types": ["node"], "typeRoots": ["$ROOT/node_modules/@types"]
  },
  "files": ["check.ts"]
}
JSON
echo "::: it type-checks against the package's declarations"
"$ROOT/node_modules/.bin/tsc" -p "$WORK/app/tsconfig.json"

echo "::: a running service"
npm run build:server >/dev/null
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
KEY="client-package-admin-key-$RANDOM$RANDOM"
DATABASE_URL="sqlite:$WORK/identity.db" HOST=127.0.0.1 PORT="$PORT" BOOTSTRAP_API_KEY="$KEY" LOG_LEVEL=warn \
  node dist/server.js >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

echo "::: the scratch project calls it through the package"
(cd "$WORK/app" && "$ROOT/node_modules/.bin/tsx" check.ts "http://127.0.0.1:$PORT" "$KEY") ||
  { echo "--- server log"; cat "$WORK/server.log"; exit 1; }
echo "::: client package test passed"
