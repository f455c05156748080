#!/usr/bin/env bash
# Longer randomised fuzz run of the whole API (schemathesis + Hypothesis), on both backends.
#
#   scripts/fuzz.sh                  # 200 requests per operation/mode/auth, a fresh seed
#   EXAMPLES=1000 scripts/fuzz.sh    # longer
#   SEED=123456 scripts/fuzz.sh      # repeat a run (the seed is printed at the start)
#
# CI runs the same test derandomized with 15 examples (tests/service/api/test_fuzz.py); this
# script searches further. A failure it finds becomes an explicit regression test (see
# tests/service/api/test_nul.py). PostGIS runs when GRIDMAP_TEST_POSTGIS_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED="${SEED:-$(date +%s)}"
EXAMPLES="${EXAMPLES:-200}"
echo "fuzz: seed ${SEED}, ${EXAMPLES} examples per operation, mode and auth (repeat: SEED=${SEED} $0)"
GRIDMAP_FUZZ_SEED="${SEED}" GRIDMAP_FUZZ_EXAMPLES="${EXAMPLES}" \
  exec .venv/bin/python -m pytest tests/service/api/test_fuzz.py -q -p no:cacheprovider "$@"
