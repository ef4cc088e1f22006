#!/usr/bin/env bash
# The chaos suite at full size (RELIABILITY.md): CHAOS_RUNS randomized runs
# of each scenario, one scenario after the other, CHAOS_PARALLEL runs of a
# scenario at once; the figures go to CHAOS_REPORT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CHAOS_RUNS="${CHAOS_RUNS:-20}" CHAOS_PARALLEL="${CHAOS_PARALLEL:-4}"
export CHAOS_FLOWS="${CHAOS_FLOWS:-8}" CHAOS_SWARM="${CHAOS_SWARM:-10000}"
export CHAOS_REPORT="${CHAOS_REPORT:-$PWD/chaos-report.md}"
echo "chaos: CHAOS_RUNS=$CHAOS_RUNS CHAOS_PARALLEL=$CHAOS_PARALLEL CHAOS_FLOWS=$CHAOS_FLOWS CHAOS_SWARM=$CHAOS_SWARM"
cd backend/hatchet
status=0
# -parallel: the runs wait on CHAOS_PARALLEL, not on go test's limit.
go test -count=1 -v -timeout 170m -parallel 100 ./internal/chaos/ || status=$?
cat "$CHAOS_REPORT"
exit "$status"
