#!/usr/bin/env bash
# What replication costs: the same 3 redis-server nodes behind two proxies that differ only in
# replication.factor (1 and 2), and direct to one node, with redis-benchmark -t set,get
# -c 50 -r 100000 -d 64 at each pipeline depth, runs interleaved, median of ROUNDS. Reports
# requests per second and each proxy's CPU microseconds per request (/proc/PID/stat).
# L1 is off in both proxies (GET would otherwise be answered from memory). Loopback only; stops
# only the processes it started.
#
#   benchmarks/scripts/replication-bench.sh
#   ROUNDS=3 REQUESTS=200000 PIPELINES="1 16" benchmarks/scripts/replication-bench.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
PIPELINES=${PIPELINES:-"1 16"}
BASE=${BASE_PORT:-27300}
source "$here/benchmarks/scripts/common.sh"
bench_start replbench
cp "$jar" "$work/cacheproxy.jar"      # a rebuild during the run does not change what runs
jvm=(-Dio.netty.noUnsafe=false --sun-misc-unsafe-memory-access=allow -XX:+UseParallelGC -Xms1g -Xmx1g)

nodes=""
for i in 1 2 3; do
  port=$((BASE + i))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
    > "$work/redis$i.log" 2>&1 &
  pids+=($!)
  nodes="$nodes${nodes:+, }127.0.0.1:$port"
done
start_proxy() {   # name port admin factor
  cat > "$work/$1.yaml" <<YML
server:
  listen: 127.0.0.1:$2
admin:
  listen: 127.0.0.1:$3
pools:
  main:
    type: sharded
    nodes: [$nodes]
    replication: {factor: $4}
l1:
  enabled: false
YML
  "$java" "${jvm[@]}" -jar "$work/cacheproxy.jar" run --config "$work/$1.yaml" > "$work/$1.log" 2>&1 &
  pids+=($!)
  eval "${1}_pid=$!"
}
f1_port=$((BASE + 10)); f2_port=$((BASE + 20))
start_proxy f1 "$f1_port" $((BASE + 11)) 1
start_proxy f2 "$f2_port" $((BASE + 21)) 2
for p in "$f1_port" "$f2_port" $((BASE + 1)); do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
declare -A results
run() {   # label port pid pipeline test
  local before after rps
  before=$([ -n "$3" ] && cpu_ticks "$3" || echo 0)
  rps=$(redis-benchmark -h 127.0.0.1 -p "$2" -t "$5" -c 50 -n "$REQUESTS" -r 100000 -d 64 -P "$4" -q 2>/dev/null \
        | tr '\r' '\n' | grep -i "requests per second" | tail -1 | awk '{print $2}')
  after=$([ -n "$3" ] && cpu_ticks "$3" || echo 0)
  local us; us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$REQUESTS" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  results["$1 $4 $5"]+="$rps/$us "
}
for round in $(seq "$ROUNDS"); do
  for P in $PIPELINES; do
    for t in set get; do
      run direct $((BASE + 1)) "" "$P" "$t"
      run factor1 "$f1_port" "$f1_pid" "$P" "$t"
      run factor2 "$f2_port" "$f2_pid" "$P" "$t"
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -t/ -k1 -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
printf "%-8s %-3s %-4s %14s %14s %14s %12s %12s\n" test P "" direct "factor 1" "factor 2" "f2/f1 rps" "us/req f1→f2"
for P in $PIPELINES; do
  for t in set get; do
    d=$(echo "${results[direct $P $t]}" | median); a=$(echo "${results[factor1 $P $t]}" | median); b=$(echo "${results[factor2 $P $t]}" | median)
    printf "%-8s %-3s %-4s %14s %14s %14s %12s %12s\n" "$t" "$P" "" "${d%/*}" "${a%/*}" "${b%/*}" \
      "$(awk -v a="${a%/*}" -v b="${b%/*}" 'BEGIN { printf "%.2f", b / a }')" "${a#*/} → ${b#*/}"
  done
done
