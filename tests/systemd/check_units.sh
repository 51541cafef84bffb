#!/usr/bin/env bash
# Checks the hardening of the packaged systemd units (SPEC §7):
# systemd-analyze's offline security score must stay at or below
# THRESHOLD, in tenths of its exposure level (0 = fully locked down,
# 100 = fully exposed; the units score 14 and 16), and each unit must
# keep the settings its package promises.  Exits 77 (skipped) without
# systemd-analyze.
#
# usage: check_units.sh UNIT_DIR [THRESHOLD]
set -euo pipefail
dir=$1 threshold=${2:-20}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
fail=0
need() { # UNIT LINE: the unit has exactly this line
    grep -qxF -- "$2" "$1" || { echo "FAIL: $(basename "$1") lacks: $2"; fail=1; }
}
for unit in "$dir"/opspulse-agent.service "$dir"/opspulse-aggregator.service; do
    for line in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
        CapabilityBoundingSet= AmbientCapabilities=; do
        need "$unit" "$line"
    done
    if ! out=$(systemd-analyze security --offline=yes --threshold="$threshold" --no-pager \
        "$unit" 2>&1); then
        echo "FAIL: $(basename "$unit") is more exposed than $threshold:"
        echo "$out" | grep -E '^✗|Overall' || echo "$out"
        fail=1
    else
        echo "$out" | grep Overall
    fi
done
need "$dir/opspulse-agent.service" User=opspulse-agent
need "$dir/opspulse-aggregator.service" User=opspulse
# The agent writes only its spool; the aggregator nowhere.
rw=$(grep -h '^ReadWritePaths=' "$dir/opspulse-agent.service" | sort -u | tr '\n' ' ')
[ "$rw" = "ReadWritePaths=/var/lib/opspulse-agent " ] ||
    { echo "FAIL: agent ReadWritePaths is '$rw', not only the spool"; fail=1; }
if grep -q '^ReadWritePaths=' "$dir/opspulse-aggregator.service"; then
    echo "FAIL: the aggregator unit may write somewhere"
    fail=1
fi
exit $fail
