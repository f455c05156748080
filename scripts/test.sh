#!/usr/bin/env bash
# Set up (see setup.sh), then run the whole test suite on SpatiaLite and PostGIS.
# Extra arguments go to pytest, e.g. scripts/test.sh -k partition
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export GRIDMAP_TEST_POSTGIS_URL="${GRIDMAP_TEST_POSTGIS_URL:-postgresql+psycopg://gridmap:gridmap@127.0.0.1:5432/gridmap_test}"
scripts/lint.sh
.venv/bin/python -m pytest --doctest-modules gridmap geodata -q
.venv/bin/python -m pytest -n "${GRIDMAP_TEST_WORKERS:-2}" "$@"
