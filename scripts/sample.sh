#!/usr/bin/env bash
# Starts the demo from a fresh clone: installs the extension and its plugins, then
# serves the page on http://127.0.0.1:5000 and the API on http://127.0.0.1:5001.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(-e .)
for plugin in plugins/*/; do
  [[ -f "$plugin/setup.cfg" ]] && packages+=(-e "$plugin")
done
log=$(mktemp)
if ! python3 -m pip install -q --disable-pip-version-check "${packages[@]}" >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"
exec python3 -m sample_app
