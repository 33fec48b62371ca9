#!/usr/bin/env bash
# L1 on vs L1 off vs direct Redis, with `cacheproxy bench` (zipf 0.99 over KEYS keys, 95% GET,
# 50 clients), pipelined and not, runs interleaved, ROUNDS rounds. One redis-server behind two
# proxies that differ only in l1.enabled. Reports throughput, p50/p99, L1 hit ratio (from the
# proxy's metrics) and CPU microseconds per request of the proxy and of redis-server (/proc).
# Loopback only; stops only the processes it started.
#
#   benchmarks/scripts/l1-bench.sh
#   ROUNDS=3 DURATION=10s PIPELINES="1 16" MIN_READS=20 benchmarks/scripts/l1-bench.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-8s}
KEYS=${KEYS:-1000000}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-"1 16"}
MIN_READS=${MIN_READS:-20}
BASE=${BASE_PORT:-27200}
source "$here/benchmarks/scripts/common.sh"
bench_start l1bench
jvm=(-Dio.netty.noUnsafe=false --sun-misc-unsafe-memory-access=allow -XX:+UseParallelGC -Xms1g -Xmx1g)

redis_port=$((BASE + 1))
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
  > "$work/redis.log" 2>&1 &
pids+=($!); redis_pid=$!
start_proxy() {   # name port admin l1-enabled
  cat > "$work/$1.yaml" <<YML
server:
  listen: 127.0.0.1:$2
admin:
  listen: 127.0.0.1:$3
pools:
  main:
    type: sharded
    nodes: [127.0.0.1:$redis_port]
l1:
  enabled: $4
  hot-keys: {min-reads-per-second: $MIN_READS}
YML
  "$java" "${jvm[@]}" -jar "$jar" run --config "$work/$1.yaml" > "$work/$1.log" 2>&1 &
  pids+=($!)
  eval "${1}_pid=$!"
}
on_port=$((BASE + 10)); off_port=$((BASE + 20))
start_proxy on "$on_port" $((BASE + 11)) true
start_proxy off "$off_port" $((BASE + 21)) false
for p in "$on_port" "$off_port"; do
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2}'; }
bench() {  # target pipeline cpu-pid-args...
  local target=$1 pipeline=$2; shift 2
  "$java" "${jvm[@]}" -jar "$jar" bench --target "127.0.0.1:$target" --clients "$CLIENTS" --pipeline "$pipeline" \
    --duration "$DURATION" --warmup 2s --keys "$KEYS" --distribution zipf --zipf-exponent 0.99 --read-ratio 0.95 \
    --json --no-progress "$@"
}
echo "prefilling $KEYS keys"
"$java" "${jvm[@]}" -jar "$jar" bench --target "127.0.0.1:$redis_port" --keys "$KEYS" --prefill --requests 1 \
  --no-progress --json > /dev/null 2>&1

printf '%-6s %-3s %10s %9s %9s %9s %11s %11s %8s\n' setup P ops/s p50us p99us l1hit proxyus/req redisus/req errors
for round in $(seq "$ROUNDS"); do
  for P in $PIPELINES; do
    for setup in direct off on; do
      case $setup in
        direct) target=$redis_port; cpu=(--cpu-pid "redis=$redis_pid");;
        off) target=$off_port; cpu=(--cpu-pid "proxy=$off_pid" --cpu-pid "redis=$redis_pid");;
        on) target=$on_port; cpu=(--cpu-pid "proxy=$on_pid" --cpu-pid "redis=$redis_pid");;
      esac
      h0=$(metric $((BASE + 11)) cacheproxy_l1_hits_total); m0=$(metric $((BASE + 11)) cacheproxy_l1_misses_total)
      bench "$target" "$P" "${cpu[@]}" > "$work/out.json" 2> "$work/bench.err"
      h1=$(metric $((BASE + 11)) cacheproxy_l1_hits_total); m1=$(metric $((BASE + 11)) cacheproxy_l1_misses_total)
      python3 - "$work/out.json" "$setup" "$P" "$h0" "$h1" "$m0" "$m1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); setup, p = sys.argv[2], sys.argv[3]
h0, h1, m0, m1 = (float(x) for x in sys.argv[4:8])
lat = r["latencyUs"]["all"]
cpu = {c["name"]: c for c in r.get("cpu", [])}
def us(name):
    c = cpu.get(name); return "%.2f" % c["usPerRequest"] if c else "-"
hit = "%.3f" % ((h1 - h0) / max(1.0, (h1 - h0) + (m1 - m0))) if setup == "on" else "-"
print("%-6s %-3s %10.0f %9.1f %9.1f %9s %11s %11s %8d" % (setup, p, r["opsPerSec"], lat["p50"], lat["p99"], hit,
      us("proxy"), us("redis"), r["errors"]))
PY
    done
  done
done
