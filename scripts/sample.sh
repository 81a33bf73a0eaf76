#!/usr/bin/env bash
# Starts the demo from a fresh clone: installs the extension (with its config
# store and console: the demo keeps its config in instance/gravicors.db and edits
# it at http://127.0.0.1:5001/gravicors/) and its plugins, then serves the page on
# http://127.0.0.1:5000 and the API on http://127.0.0.1:5001.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install.sh
install_project "[console]"
exec python3 -m sample_app
