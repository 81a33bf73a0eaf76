#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs what it needs first.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# System parts the tests drive for real: Debian's Chromium (browser suite),
# redis-server (rate-limit plugin), PostgreSQL's server (config store; its
# binaries live in /usr/lib/postgresql/<version>/bin) and graphviz (docs).
# Installed only when missing.
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# Graphviz's dot renders the docs' diagrams (tests/test_docs.py builds the docs).
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

# The extension with its test extras (docs: the Sphinx build; release: build and
# twine for the packaging tests), and every policy plugin under plugins/.
source scripts/install.sh
install_project "[test,docs,release]"

exec python3 -m pytest "$@"
