#!/usr/bin/env bash
# Throughput and CPU per request: direct Redis vs twemproxy (nutcracker) vs cacheproxy, over the same
# backends, with redis-benchmark, runs interleaved, median of ROUNDS. Loopback only; stops only the
# processes it started.
#
#   benchmarks/scripts/compare-proxies.sh            # 3 backends, -P 1 and -P 16, 3 rounds
#   NODES=1 ROUNDS=5 REQUESTS=400000 benchmarks/scripts/compare-proxies.sh
#   TRANSPORT=epoll IO_THREADS=2 PIPELINES=1 benchmarks/scripts/compare-proxies.sh   # proxy variants
#   L1=false benchmarks/scripts/compare-proxies.sh     # cacheproxy without its near cache (default: on)
#
# Needs: redis-server, redis-benchmark, nutcracker (apt-get install redis-server redis-tools nutcracker),
# and cli/target/cacheproxy.jar (./cacheproxy builds it).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
NODES=${NODES:-3}
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-"1 16"}
TESTS=${TESTS:-get,set}
BASE=${BASE_PORT:-27000}
source "$here/benchmarks/scripts/common.sh"
bench_start bench

nodes_yaml=""; nodes_nc=""
for i in $(seq 1 "$NODES"); do
  port=$((BASE + i))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
    > "$work/redis-$port.log" 2>&1 &
  pids+=($!)
  nodes_yaml+="${nodes_yaml:+, }127.0.0.1:$port"
  nodes_nc+="   - 127.0.0.1:$port:1 node$i"$'\n'
done
direct_port=$((BASE + 1))
tw_port=$((BASE + 100)); cp_port=$((BASE + 101)); cp_admin=$((BASE + 102))
cat > "$work/nutcracker.yml" <<YML
pool:
  listen: 127.0.0.1:$tw_port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  preconnect: true
  server_connections: 1
  servers:
$nodes_nc
YML
nutcracker -c "$work/nutcracker.yml" -s $((BASE + 103)) -o "$work/nutcracker.log" &
pids+=($!); tw_pid=$!
cat > "$work/cacheproxy.yaml" <<YML
server:
  listen: 127.0.0.1:$cp_port
  transport: ${TRANSPORT:-auto}
  io-threads: ${IO_THREADS:-1}
admin:
  listen: 127.0.0.1:$cp_admin
pools:
  main:
    type: sharded
    nodes: [$nodes_yaml]
l1:
  enabled: ${L1:-true}
invalidation:
  broadcast: {enabled: ${BROADCAST:-true}}
YML
"$java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Dio.netty.noUnsafe=false -XX:+UseParallelGC -Xms256m \
  -jar "$here/cli/target/cacheproxy.jar" run --config "$work/cacheproxy.yaml" > "$work/cacheproxy.log" 2>&1 &
pids+=($!); cp_pid=$!
for port in $direct_port $tw_port $cp_port; do
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
# warm the JIT
redis-benchmark -p $cp_port -t $TESTS -n 200000 -P 16 -c $CLIENTS -r 100000 -d 64 -q >/dev/null 2>&1 || true

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run() { # target port pid pipeline -> "test rps cpu_us_per_req" lines
  local port=$1 pid=$2 p=$3 before after out
  before=$( [ "$pid" = 0 ] && echo 0 || ticks "$pid")
  out=$(redis-benchmark -p "$port" -t $TESTS -n $REQUESTS -P "$p" -c $CLIENTS -r 100000 -d 64 -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | grep -v 'rps=')
  after=$( [ "$pid" = 0 ] && echo 0 || ticks "$pid")
  local total_reqs=$(( REQUESTS * $(echo "$TESTS" | tr ',' '\n' | wc -l) ))
  local cpu_us=$(awk -v a="$after" -v b="$before" -v hz="$hz" -v n="$total_reqs" 'BEGIN{printf "%.2f", (a-b)/hz*1e6/n}')
  echo "$out" | awk -v cpu="$cpu_us" '{gsub(":","",$1); print $1, $2, cpu}'
}
results="$work/results"
for round in $(seq 1 "$ROUNDS"); do
  for p in $PIPELINES; do
    run $direct_port 0 "$p"       | sed "s/^/direct $p /"    >> "$results"
    run $tw_port "$tw_pid" "$p"   | sed "s/^/twemproxy $p /" >> "$results"
    run $cp_port "$cp_pid" "$p"   | sed "s/^/cacheproxy $p /" >> "$results"
  done
done
echo "nodes=$NODES clients=$CLIENTS requests=$REQUESTS rounds=$ROUNDS (median); cpu = proxy process CPU µs per request (all tests of the run)"
printf "%-5s %-4s %12s %12s %12s %8s %8s %10s %10s\n" test P direct twemproxy cacheproxy cp/dir cp/tw "tw cpu" "cp cpu"
median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for p in $PIPELINES; do
  for t in $(echo "$TESTS" | tr ',' ' ' | tr a-z A-Z); do
    d=$(awk -v p="$p" -v t="$t" '$1=="direct" && $2==p && $3==t {print $4}' "$results" | median)
    tw=$(awk -v p="$p" -v t="$t" '$1=="twemproxy" && $2==p && $3==t {print $4}' "$results" | median)
    cp=$(awk -v p="$p" -v t="$t" '$1=="cacheproxy" && $2==p && $3==t {print $4}' "$results" | median)
    twc=$(awk -v p="$p" -v t="$t" '$1=="twemproxy" && $2==p && $3==t {print $5}' "$results" | median)
    cpc=$(awk -v p="$p" -v t="$t" '$1=="cacheproxy" && $2==p && $3==t {print $5}' "$results" | median)
    printf "%-5s %-4s %12.0f %12.0f %12.0f %8.2f %8.2f %10s %10s\n" "$t" "$p" "$d" "$tw" "$cp" \
      "$(awk -v a="$cp" -v b="$d" 'BEGIN{print a/b}')" "$(awk -v a="$cp" -v b="$tw" 'BEGIN{print a/b}')" "$twc" "$cpc"
  done
done
