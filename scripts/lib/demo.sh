# Demo history for quickstart: twelve weeks of three services with
# different habits.  Sourced; demo_deploys AGENT CONFIG records their
# deploys one command each, as a deploy script would; demo_history FILE
# writes the rest (toil, alerts, batch runs, components, maintenance,
# capacity, readiness checks, incidents and action items) as an import file for `opspulse-agent import`.  The same days
# and ids are produced on every run, so re-running stores nothing twice.

DEMO_WEEKS=12

demo_time() {
    date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

demo_deploys() {
    local agent=$1 conf=$2 now day
    now=$(date -u +%s)
    day=$((now - now % 86400))
    # service  deploys-per-week  failure-every-Nth  lead-hours  hotfix-every-Nth
    local plan="billing 10 9 6 12
search 3 4 30 5
checkout 1 2 200 3"
    local n=0
    while read -r svc per_week fail_every lead hotfix_every; do
        local total=$((per_week * DEMO_WEEKS)) i span=$((DEMO_WEEKS * 7 * 86400))
        for ((i = 0; i < total; i++)); do
            # Spread deploys over the weeks, during working hours.
            local fin=$((day - span + i * span / total + 10 * 3600 + (i * 37 % 7) * 3600))
            local dur=$((120 + (i * 53 % 9) * 60))
            local outcome=success args=()
            if [ $(((i + 1) % fail_every)) -eq 0 ]; then
                outcome=failed
                [ $((i % 2)) -eq 0 ] && outcome=rolled_back
            fi
            [ $(((i + 1) % hotfix_every)) -eq 0 ] && args+=(--hotfix)
            "$agent" -c "$conf" deploy record --service "$svc" --id "demo-$svc-$fin" \
                --started "$(demo_time $((fin - dur)))" --finished "$(demo_time "$fin")" \
                --outcome "$outcome" \
                --commit-time "$(demo_time $((fin - lead * 3600 - (i % 5) * 1800)))" \
                --version "1.$((i / 4)).$((i % 4))" "${args[@]}"
            n=$((n + 1))
        done
    done <<<"$plan"
    echo "$n"
}

# One JSON line per event; every string here is plain ASCII without quotes.
demo_line() {
    printf '{%s}\n' "$1"
}

demo_history() {
    local out=$1 now day w d t
    now=$(date -u +%s)
    day=$((now - now % 86400))
    : >"$out"
    for ((w = DEMO_WEEKS; w >= 1; w--)); do
        local wk=$((day - w * 7 * 86400))
        # Toil.  billing: one person restarts a stuck worker, more often
        # lately; search: three people share reindexing; checkout: refunds.
        local restarts=$((2 + (DEMO_WEEKS - w) / 3))
        for ((d = 0; d < restarts; d++)); do
            t=$((wk + d * 86400 + 7 * 3600 + d * 5400))
            demo_line "\"type\":\"toil\",\"service\":\"billing\",\"task\":\"restart stuck worker\",\"operator\":\"aiko\",\"started_at\":\"$(demo_time $t)\",\"duration_s\":$((900 + d * 300)),\"source\":\"manual\"" >>"$out"
        done
        demo_line "\"type\":\"toil\",\"service\":\"billing\",\"task\":\"rotate TLS certificates\",\"operator\":\"aiko\",\"started_at\":\"$(demo_time $((wk + 2 * 86400 + 10 * 3600)))\",\"duration_s\":2700,\"source\":\"manual\"" >>"$out"
        local ops=(ken mei sam)
        for ((d = 0; d < 3; d++)); do
            t=$((wk + (d + 1) * 86400 + 14 * 3600))
            demo_line "\"type\":\"toil\",\"service\":\"search\",\"task\":\"reindex shards\",\"operator\":\"${ops[$(((w + d) % 3))]}\",\"started_at\":\"$(demo_time $t)\",\"duration_s\":$((3600 + (w % 4) * 600)),\"source\":\"run\"" >>"$out"
        done
        demo_line "\"type\":\"toil\",\"service\":\"checkout\",\"task\":\"fix failed refunds by hand\",\"operator\":\"mei\",\"started_at\":\"$(demo_time $((wk + 3 * 86400 + 11 * 3600)))\",\"duration_s\":$((1800 + (w % 3) * 900)),\"source\":\"manual\"" >>"$out"
        # Alerts.  billing's HighLatency flaps and mostly clears within
        # minutes (noise); search's DiskFull lasts; checkout's errors get
        # fixed in half an hour.
        for ((d = 0; d < 6; d++)); do
            t=$((wk + d * 86400 + 3 * 3600 + d * 600))
            local dur=$((d % 3 == 2 ? 2400 : 240 + d * 60))
            demo_line "\"type\":\"alert\",\"service\":\"billing\",\"alertname\":\"HighLatency\",\"fingerprint\":\"demo-billing-latency\",\"severity\":\"warning\",\"starts_at\":\"$(demo_time $t)\",\"ends_at\":\"$(demo_time $((t + dur)))\"" >>"$out"
        done
        t=$((wk + 4 * 86400 + 22 * 3600))
        demo_line "\"type\":\"alert\",\"service\":\"search\",\"alertname\":\"DiskFull\",\"fingerprint\":\"demo-search-disk\",\"severity\":\"critical\",\"starts_at\":\"$(demo_time $t)\",\"ends_at\":\"$(demo_time $((t + 7200)))\"" >>"$out"
        for ((d = 0; d < 2; d++)); do
            t=$((wk + (2 + d * 2) * 86400 + 15 * 3600))
            demo_line "\"type\":\"alert\",\"service\":\"checkout\",\"alertname\":\"PaymentErrors\",\"fingerprint\":\"demo-checkout-payments\",\"severity\":\"critical\",\"starts_at\":\"$(demo_time $t)\",\"ends_at\":\"$(demo_time $((t + 1800 + d * 600)))\",\"runbook_url\":\"https://wiki.example/runbooks/payment-errors\"" >>"$out"
        done
        # A nightly export that slowly gets slower.
        for ((d = 0; d < 7; d++)); do
            t=$((wk + d * 86400 + 2 * 3600))
            demo_line "\"type\":\"batch\",\"service\":\"billing\",\"task\":\"nightly-export\",\"started_at\":\"$(demo_time $t)\",\"duration_s\":$((1200 + (DEMO_WEEKS - w) * 40 + d * 10)),\"outcome\":\"$([ $d -eq 3 ] && echo failed || echo success)\"" >>"$out"
        done
    done
    demo_readiness "$out" "$day"
    demo_incidents "$out" "$day"
    # Components: one past end of life, one due soon, one current.
    local seen
    seen=$(demo_time $((day - 86400)))
    demo_line "\"type\":\"component\",\"service\":\"billing\",\"host\":\"billing-db-1\",\"name\":\"postgresql\",\"version\":\"11.22\",\"observed_at\":\"$seen\"" >>"$out"
    demo_line "\"type\":\"component\",\"service\":\"search\",\"host\":\"search-cache-1\",\"name\":\"redis\",\"version\":\"7.4.2\",\"observed_at\":\"$seen\"" >>"$out"
    demo_line "\"type\":\"component\",\"service\":\"checkout\",\"host\":\"checkout-db-1\",\"name\":\"postgresql\",\"version\":\"16.11\",\"observed_at\":\"$seen\"" >>"$out"
    # Maintenance: one overdue, one planned, one done.
    demo_line "\"type\":\"maintenance\",\"service\":\"billing\",\"id\":\"demo-m-1\",\"component\":\"postgresql\",\"title\":\"upgrade PostgreSQL 11 to 16\",\"due_at\":\"$(demo_time $((day - 10 * 86400)))\",\"status\":\"scheduled\"" >>"$out"
    demo_line "\"type\":\"maintenance\",\"service\":\"search\",\"id\":\"demo-m-2\",\"component\":\"redis\",\"title\":\"move to Redis 8\",\"due_at\":\"$(demo_time $((day + 30 * 86400)))\",\"status\":\"scheduled\"" >>"$out"
    demo_line "\"type\":\"maintenance\",\"service\":\"checkout\",\"id\":\"demo-m-3\",\"component\":\"nginx\",\"title\":\"rotate nginx TLS settings\",\"due_at\":\"$(demo_time $((day - 20 * 86400)))\",\"status\":\"done\"" >>"$out"
    # Capacity: search's data disk grows 1 % a day; the others are flat.
    for ((d = 28; d >= 1; d--)); do
        t=$((day - d * 86400 + 12 * 3600))
        local used=$((500000000000 + (28 - d) * 10000000000))
        demo_line "\"type\":\"capacity\",\"service\":\"search\",\"host\":\"search-1\",\"at\":\"$(demo_time $t)\",\"cpu_pct\":$((40 + d % 5 * 7)),\"mem_pct\":71,\"mount\":\"/var/lib/search\",\"disk_used_bytes\":$used,\"disk_total_bytes\":1000000000000" >>"$out"
        demo_line "\"type\":\"capacity\",\"service\":\"billing\",\"host\":\"billing-1\",\"at\":\"$(demo_time $t)\",\"cpu_pct\":$((25 + d % 4 * 5)),\"mem_pct\":55,\"mount\":\"/\",\"disk_used_bytes\":40000000000,\"disk_total_bytes\":100000000000" >>"$out"
    done
    wc -l <"$out"
}

# Backups, a restore drill and manual readiness checks (opspulse
# readiness): billing backs up nightly and tested a restore last month;
# checkout's backup failed last night (after 01:30 UTC); billing's secrets were rotated
# long enough ago that the check expires within 30 days.
demo_readiness() {
    local out=$1 day=$2 d t
    for ((d = 7; d >= 0; d--)); do
        t=$((day - d * 86400 + 3600))
        [ "$t" -lt "$(date -u +%s)" ] || continue
        demo_line "\"type\":\"batch\",\"service\":\"billing\",\"task\":\"nightly-backup\",\"started_at\":\"$(demo_time $t)\",\"duration_s\":900,\"outcome\":\"success\"" >>"$out"
        demo_line "\"type\":\"batch\",\"service\":\"checkout\",\"task\":\"db-backup\",\"started_at\":\"$(demo_time $((t + 1800)))\",\"duration_s\":600,\"outcome\":\"$([ $d -eq 0 ] && echo failed || echo success)\"" >>"$out"
    done
    demo_line "\"type\":\"batch\",\"service\":\"billing\",\"task\":\"restore-drill\",\"started_at\":\"$(demo_time $((day - 35 * 86400 + 10 * 3600)))\",\"duration_s\":2400,\"outcome\":\"success\"" >>"$out"
    demo_line "\"type\":\"check\",\"service\":\"billing\",\"check\":\"runbooks_reviewed\",\"result\":\"pass\",\"evidence\":\"reviewed with the on-call rota\",\"at\":\"$(demo_time $((day - 40 * 86400)))\"" >>"$out"
    demo_line "\"type\":\"check\",\"service\":\"billing\",\"check\":\"secrets_rotated\",\"result\":\"pass\",\"evidence\":\"database and API keys rotated\",\"at\":\"$(demo_time $((day - 165 * 86400)))\"" >>"$out"
    demo_line "\"type\":\"check\",\"service\":\"checkout\",\"check\":\"secrets_rotated\",\"result\":\"exempt\",\"evidence\":\"no long-lived secrets: workload identity only\",\"at\":\"$(demo_time $((day - 20 * 86400)))\"" >>"$out"
    demo_line "\"type\":\"check\",\"service\":\"search\",\"check\":\"runbooks_reviewed\",\"result\":\"fail\",\"evidence\":\"two runbooks still name the old cluster\",\"at\":\"$(demo_time $((day - 12 * 86400)))\"" >>"$out"
}

# Incidents with postmortems and action items (opspulse incidents):
# checkout had a major one ten days ago (postmortem on time, one action
# item overdue); billing had one three weeks ago whose postmortem is
# late; search had a minor one.  Response work is recorded as toil.
demo_incidents() {
    local out=$1 day=$2 t
    t=$((day - 10 * 86400 + 15 * 3600))
    demo_line "\"type\":\"incident\",\"service\":\"checkout\",\"id\":\"INC-101\",\"severity\":2,\"title\":\"payments failing for card wallets\",\"started_at\":\"$(demo_time $t)\",\"detected_at\":\"$(demo_time $((t + 360)))\",\"acknowledged_at\":\"$(demo_time $((t + 600)))\",\"commander\":\"mei\"" >>"$out"
    demo_line "\"type\":\"incident\",\"service\":\"checkout\",\"id\":\"INC-101\",\"mitigated_at\":\"$(demo_time $((t + 2400)))\",\"resolved_at\":\"$(demo_time $((t + 3600)))\",\"postmortem\":\"https://wiki.example/pm/INC-101\",\"postmortem_at\":\"$(demo_time $((t + 4 * 86400)))\"" >>"$out"
    demo_line "\"type\":\"toil\",\"service\":\"checkout\",\"task\":\"incident response\",\"operator\":\"mei\",\"started_at\":\"$(demo_time $((t + 360)))\",\"duration_s\":3300,\"source\":\"manual\",\"incident\":\"INC-101\"" >>"$out"
    demo_line "\"type\":\"action_item\",\"service\":\"checkout\",\"id\":\"INC-101-1\",\"incident\":\"INC-101\",\"title\":\"alert on wallet provider errors\",\"owner\":\"mei\",\"due_at\":\"$(demo_time $((day - 2 * 86400)))\",\"status\":\"open\"" >>"$out"
    demo_line "\"type\":\"action_item\",\"service\":\"checkout\",\"id\":\"INC-101-2\",\"incident\":\"INC-101\",\"title\":\"retry wallet calls once\",\"owner\":\"sam\",\"due_at\":\"$(demo_time $((day - 5 * 86400)))\",\"status\":\"done\",\"done_at\":\"$(demo_time $((day - 6 * 86400)))\"" >>"$out"
    t=$((day - 21 * 86400 + 9 * 3600))
    demo_line "\"type\":\"incident\",\"service\":\"billing\",\"id\":\"INC-97\",\"severity\":2,\"title\":\"invoices stuck in the export queue\",\"started_at\":\"$(demo_time $t)\",\"detected_at\":\"$(demo_time $((t + 1500)))\",\"acknowledged_at\":\"$(demo_time $((t + 1800)))\",\"mitigated_at\":\"$(demo_time $((t + 5400)))\",\"resolved_at\":\"$(demo_time $((t + 9000)))\",\"commander\":\"aiko\"" >>"$out"
    demo_line "\"type\":\"toil\",\"service\":\"billing\",\"task\":\"incident response\",\"operator\":\"aiko\",\"started_at\":\"$(demo_time $((t + 1800)))\",\"duration_s\":7200,\"source\":\"manual\",\"incident\":\"INC-97\"" >>"$out"
    t=$((day - 6 * 86400 + 23 * 3600))
    demo_line "\"type\":\"incident\",\"service\":\"search\",\"id\":\"INC-103\",\"severity\":3,\"title\":\"slow queries after the reindex\",\"started_at\":\"$(demo_time $t)\",\"detected_at\":\"$(demo_time $((t + 900)))\",\"resolved_at\":\"$(demo_time $((t + 2700)))\"" >>"$out"
}

# Request counts (opspulse health): every 15 minutes of the last eight
# weeks, one host per service, as a load balancer's per-minute export
# would give them.  billing gets slower in the last four weeks; checkout's
# error rate doubles; search stays as it was.  Writes the import lines to
# FILE and prints how many.
demo_requests() {
    local out=$1 now start t i svc reqs errs slow TZ=UTC
    now=$(date -u +%s)
    start=$((now - now % 900 - 56 * 86400))
    : >"$out"
    for ((t = start, i = 0; t < now - 900; t += 900, i++)); do
        local recent=$((t >= now - 28 * 86400))
        local hour=$(((t / 3600) % 24))
        # Busier in the day (UTC 8-20).
        local load=$((hour >= 8 && hour < 20 ? 3 : 1))
        for svc in billing search checkout; do
            case $svc in
            billing)
                reqs=$((400 * load + i % 37))
                errs=$((i % 11 == 0 ? 2 : 0))
                slow=$((recent ? 180 + i % 40 : 95 + i % 20))
                ;;
            search)
                reqs=$((900 * load + i % 53))
                errs=$((i % 17 == 0 ? 1 : 0))
                slow=$((60 + i % 15))
                ;;
            checkout)
                reqs=$((120 * load + i % 13))
                errs=$((recent ? 3 + i % 4 : 1 + i % 2))
                slow=$((320 + i % 60))
                ;;
            esac
            # Most requests fast, a tenth middling, one in fifty slow.
            local fast=$((reqs * 88 / 100)) mid=$((reqs / 10)) tail=$((reqs / 50))
            printf '{"type":"requests","service":"%s","host":"%s-web-1","minute":"%(%Y-%m-%dT%H:%M:%SZ)T","requests":%d,"errors":%d,"latency_ms":[[%d.%d,%d],[%d.5,%d],[%d,%d]]}\n' \
                "$svc" "$svc" "$t" "$reqs" "$errs" $((8 + i % 5)) $((i % 10)) "$fast" \
                $((slow / 4)) "$mid" "$slow" "$tail" >>"$out"
        done
    done
    wc -l <"$out"
}
