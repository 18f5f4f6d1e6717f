#!/usr/bin/env bash
# Every check the project has: type check, lint, format, unit tests, build, browser e2e.
# Ends with one plain "N passed, N failed" line; exits non-zero if anything failed or no test ran.
set -u
cd "$(dirname "$0")/.."
mkdir -p .reports
rm -f .reports/unit.json .reports/e2e.json

failed_steps=()
step() {
  local name=$1
  shift
  echo "::: $name"
  if ! "$@"; then
    failed_steps+=("$name")
  fi
}

ensure_chromium() {
  local chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  [ -x "$chromium" ] && return 0
  echo "chromium is missing; installing Debian's chromium with apt-get"
  if [ "$(id -u)" != 0 ]; then
    echo "need root to apt-get install chromium (or set CHROMIUM_PATH)" >&2
    return 1
  fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || return 1
  [ -x "$chromium" ]
}

step "chromium" ensure_chromium
step "typecheck (tsc -b)" npx tsc -b
step "lint (eslint)" npx eslint --max-warnings 0 .
step "format (prettier --check)" npx prettier --check --log-level warn .
step "unit tests (vitest)" npx vitest run --reporter=default --reporter=json --outputFile.json=.reports/unit.json
# The browser tests run against a build with their test hooks (window.tdpviz.crashWorker).
step "build (vite build --mode test)" npx vite build --mode test --logLevel warn
step "e2e (playwright, chromium)" npx playwright test

node scripts/summary.mjs "${#failed_steps[@]}" "${failed_steps[@]}"
