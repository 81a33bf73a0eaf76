#!/usr/bin/env bash
# Sourced by scripts/sample.sh and scripts/test.sh: pip-installs the extension
# (with the extras named in $1, e.g. "[test]") and every policy plugin under plugins/.
install_project() {
  local packages=(-e ".${1:-}")
  local plugin
  for plugin in plugins/*/; do
    [[ -f "$plugin/setup.cfg" ]] && packages+=(-e "$plugin")
  done
  local log
  log=$(mktemp)
  if ! python3 -m pip install -q --disable-pip-version-check "${packages[@]}" >"$log" 2>&1; then
    cat "$log"; rm -f "$log"; return 1
  fi
  rm -f "$log"
}
