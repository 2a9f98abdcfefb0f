#!/usr/bin/env bash
# ci-report.sh — check augur's HTML reports in a real browser and with a real HTML checker.
#
# Installs what the tests need when missing — Debian's chromium (apt) and the npm html-validate
# checker (pinned, into $HOME/.cache/augur-html-validate) — then runs the report tests of
# internal/cli with AUGUR_REPORT_TOOLS=1: every report (each shipped dataset, the judged examples,
# analyze and test runs) is opened by headless Chromium from file:// with the network off (no
# console errors, no failed or off-machine requests, every chart drawn with a size, screenshots in
# light and dark, a printed PDF), and validated by html-validate. Screenshots are kept in
# $AUGUR_REPORT_ARTIFACTS (default: a fresh temporary directory, printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

HTML_VALIDATE_VERSION=9.7.1
cache="${HOME}/.cache/augur-html-validate"
log() { echo "ci-report: $*" >&2; }

pkgs=()
if ! command -v chromium >/dev/null 2>&1 && [ -z "${AUGUR_CHROMIUM:-}" ]; then pkgs+=(chromium fonts-dejavu-core); fi
if ! command -v npm >/dev/null 2>&1; then pkgs+=(npm); fi
if [ "${#pkgs[@]}" -gt 0 ]; then
  log "installing Debian packages ${pkgs[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
log "$(chromium --version 2>/dev/null || echo "AUGUR_CHROMIUM=${AUGUR_CHROMIUM:-}")"

if [ ! -x "$cache/node_modules/.bin/html-validate" ] || \
   ! grep -q "\"version\": \"$HTML_VALIDATE_VERSION\"" "$cache/node_modules/html-validate/package.json" 2>/dev/null; then
  log "installing html-validate@$HTML_VALIDATE_VERSION into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent "html-validate@$HTML_VALIDATE_VERSION" >/dev/null
fi
export AUGUR_HTML_VALIDATE="$cache/node_modules/.bin/html-validate"
log "html-validate $("$AUGUR_HTML_VALIDATE" --version)"

export AUGUR_REPORT_ARTIFACTS="${AUGUR_REPORT_ARTIFACTS:-$(mktemp -d -t augur-report-XXXXXX)}"
logfile=$(mktemp -t augur-report-test-XXXXXX.log)
rc=0
AUGUR_REPORT_TOOLS=1 go test -count=1 -v -run '^TestReport(InBrowser|Validates)$' ./internal/cli/ >"$logfile" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$logfile"
  log "report tests failed (exit $rc)"
  exit "$rc"
fi
if grep -q -- '--- SKIP' "$logfile"; then
  cat "$logfile"; log "report tests were skipped: they must run"; exit 1
fi
grep -E '^--- PASS|^ok ' "$logfile"
echo "report pages checked in the browser: $(grep -cE '^    --- PASS: TestReportInBrowser/' "$logfile")"
log "screenshots in $AUGUR_REPORT_ARTIFACTS"
