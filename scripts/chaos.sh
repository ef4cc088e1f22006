#!/usr/bin/env bash
# The chaos suite at full size (RELIABILITY.md): CHAOS_RUNS randomized runs
# of each scenario. The engine-restart scenario runs in a test process of
# its own, with its own engine, beside the others (a restart must not hit
# their runs); the figures of both go to CHAOS_REPORT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../backend/hatchet"
export CHAOS_RUNS="${CHAOS_RUNS:-20}" CHAOS_PARALLEL="${CHAOS_PARALLEL:-4}"
export CHAOS_FLOWS="${CHAOS_FLOWS:-8}" CHAOS_SWARM="${CHAOS_SWARM:-10000}"
report="${CHAOS_REPORT:-$PWD/../../chaos-report.md}"
logs="$(mktemp -d)"
echo "chaos: CHAOS_RUNS=$CHAOS_RUNS CHAOS_PARALLEL=$CHAOS_PARALLEL CHAOS_FLOWS=$CHAOS_FLOWS CHAOS_SWARM=$CHAOS_SWARM; logs in $logs"
go test -c -o "$logs/chaos.test" ./internal/chaos/
CHAOS_REPORT="$logs/engine.md" "$logs/chaos.test" -test.v -test.count=1 -test.timeout 170m \
	-test.parallel 16 -test.run "TestRestartEngine" >"$logs/engine.log" 2>&1 &
engine=$!
status=0
CHAOS_REPORT="$logs/others.md" "$logs/chaos.test" -test.v -test.count=1 -test.timeout 170m \
	-test.parallel 16 -test.skip "TestRestartEngine" >"$logs/others.log" 2>&1 || status=1
wait "$engine" || status=1
{
	cat "$logs/others.md"
	tail -n +5 "$logs/engine.md"
} >"$report"
grep -h -E '^(--- FAIL|FAIL|ok|PASS)' "$logs/engine.log" "$logs/others.log" || true
cat "$report"
exit "$status"
