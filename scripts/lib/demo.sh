# Demo history for quickstart: four weeks of deploys for three services
# with different habits.  Sourced; demo_deploys AGENT CONFIG records them.
# The same days and ids are produced on every run, so re-running stores
# nothing twice.

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
        local total=$((per_week * 4)) i
        for ((i = 0; i < total; i++)); do
            # Spread deploys over 28 days, during working hours.
            local fin=$((day - 28 * 86400 + i * 28 * 86400 / total + 10 * 3600 + (i * 37 % 7) * 3600))
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
