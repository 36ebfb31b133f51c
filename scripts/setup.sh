#!/bin/sh
# Installs pnpm and the workspace's dependencies on a machine that has only Node 20+.
set -e
cd "$(dirname "$0")/.."
# node-gyp must build native addons (better-sqlite3) against the local Node headers: there is no download.
if [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi
if ! command -v pnpm >/dev/null 2>&1; then
  npm install -g pnpm@12 >/dev/null
fi
pnpm install --prefer-offline --reporter=silent
# The admin console (hub/console) is bundled here, so the README's commands build it and the hub serves it.
pnpm --filter @crema/hub run --silent console:build
