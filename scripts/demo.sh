#!/usr/bin/env bash
# Set up (see setup.sh), then serve the demo: a fresh SpatiaLite file with the Tongren sample,
# imported, partitioned into grids and published. Extra arguments go to `gridmap serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
GRIDMAP_SKIP_POSTGIS=1 scripts/setup.sh
exec .venv/bin/gridmap serve --demo "$@"
