#!/usr/bin/env bash
# Fails when a function (or aggregate) of schema opspulse is defined more
# than once in the SQL of aggregator/sql: each has one home, the file of its
# family under aggregator/sql/functions (see aggregator/sql/README.md), so
# that `grep -rn "FUNCTION opspulse.NAME" aggregator/sql` finds the one
# definition that runs.
# usage: check_definitions.sh [SQL_DIR]   (default: aggregator/sql)
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)/aggregator/sql}
[ -d "$dir" ] || { echo "no such directory: $dir" >&2; exit 2; }

defs=$(find "$dir" -name '*.sql' -print0 | sort -z |
    xargs -0 grep -HnioE 'CREATE[[:space:]]+(OR[[:space:]]+REPLACE[[:space:]]+)?(FUNCTION|AGGREGATE)[[:space:]]+opspulse\.[a-z0-9_]+' || true)
if [ -z "$defs" ]; then
    echo "no function definitions found under $dir" >&2
    exit 1
fi
# file:line:match -> name file:line
listed=$(printf '%s\n' "$defs" |
    sed -E 's/^([^:]+):([0-9]+):.*opspulse\.([A-Za-z0-9_]+)$/\3 \1:\2/' |
    awk '{ print tolower($1), $2 }' | sort)
dups=$(printf '%s\n' "$listed" | awk '{ print $1 }' | uniq -d)
total=$(printf '%s\n' "$listed" | wc -l)
if [ -n "$dups" ]; then
    echo "functions defined more than once in $dir (keep the one that runs, in its family's file):"
    for name in $dups; do
        printf '%s\n' "$listed" | awk -v n="$name" '$1 == n { print "  opspulse." $1 "  " $2 }'
    done
    exit 1
fi
echo "ok: $total definitions, each function defined once"
