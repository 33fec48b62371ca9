#!/usr/bin/env bash
# How long a node restarted empty takes to be repaired, end to end: 3 redis-server nodes behind a
# proxy with replication.factor 2 (L1 off), KEYS keys written through the proxy (cacheproxy bench
# --prefill), then one node is killed (kill -9), restarted empty on the same port, and the script
# waits until the proxy trusts it again (cacheproxy_node_trusted = 1). Optional read/write load
# through the proxy during the repair: LOAD=1. Loopback only; stops only the processes it started.
#
#   KEYS=1000000 benchmarks/scripts/repair-bench.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
KEYS=${KEYS:-1000000}
LOAD=${LOAD:-0}
BASE=${BASE_PORT:-27400}
source "$here/benchmarks/scripts/common.sh"
bench_start repairbench
cp "$jar" "$work/cacheproxy.jar"
jvm=(-Dio.netty.noUnsafe=false --sun-misc-unsafe-memory-access=allow -XX:+UseParallelGC -Xms1g -Xmx1g)

start_redis() {   # index
  redis-server --port $((BASE + $1)) --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
    > "$work/redis$1.log" 2>&1 &
  pids+=($!)
  eval "redis${1}_pid=$!"
}
for i in 1 2 3; do start_redis "$i"; done
proxy_port=$((BASE + 10)); admin_port=$((BASE + 11))
cat > "$work/proxy.yaml" <<YML
server:
  listen: 127.0.0.1:$proxy_port
admin:
  listen: 127.0.0.1:$admin_port
pools:
  main:
    type: sharded
    nodes: [127.0.0.1:$((BASE + 1)), 127.0.0.1:$((BASE + 2)), 127.0.0.1:$((BASE + 3))]
    replication: {factor: 2}
l1:
  enabled: false
YML
"$java" "${jvm[@]}" -jar "$work/cacheproxy.jar" run --config "$work/proxy.yaml" > "$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$proxy_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "writing $KEYS keys through the proxy..."
"$java" "${jvm[@]}" -jar "$work/cacheproxy.jar" bench --target "127.0.0.1:$proxy_port" --prefill --keys "$KEYS" \
  --requests 1 --warmup 0s --no-progress --pipeline 32 --value-size 64 > /dev/null
for i in 1 2 3; do echo "node $i: $(redis-cli -p $((BASE + i)) dbsize) keys"; done
victim=1
before=$(redis-cli -p $((BASE + victim)) dbsize)
if [ "$LOAD" = 1 ]; then
  "$java" "${jvm[@]}" -jar "$work/cacheproxy.jar" bench --target "127.0.0.1:$proxy_port" --keys "$KEYS" \
    --distribution uniform --read-ratio 0.5 --clients 8 --duration 600s --warmup 0s --no-progress > /dev/null 2>&1 &
  pids+=($!)
fi
kill -9 "$redis1_pid"
sleep 1
start_redis "$victim"
restarted=$(date +%s%N)
trusted() { curl -s "127.0.0.1:$admin_port/metrics" | grep "^cacheproxy_node_trusted{" | grep "127.0.0.1:$((BASE + victim))\"" | awk '{print $2}'; }
for _ in $(seq 6000); do
  [ "$(trusted)" = "1.0" ] && break
  sleep 0.1
done
took=$(( ($(date +%s%N) - restarted) / 1000000 ))
echo "node $victim held $before keys; restarted empty; trusted again after $took ms; it now holds $(redis-cli -p $((BASE + victim)) dbsize) keys"
grep -E "repair scanned|repaired" "$work/proxy.log" | sed 's/^/  /'
