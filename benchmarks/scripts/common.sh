# Sourced by the benchmark scripts here: a scratch directory and the processes started, both
# removed on exit (only those processes are stopped); a JDK/JRE 21+ as $java; the built jar.
#
#   here=...; source "$here/benchmarks/scripts/common.sh"; bench_start NAME
#   ...; pids+=($!)        # for each process the script starts

# NAME names the scratch directory /tmp/cacheproxy-NAME.XXXXXX ($work).
bench_start() {
  work=$(mktemp -d "/tmp/cacheproxy-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
  java=""
  local d v
  for d in "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ | sort -r); do
    d=${d%/}; [ -x "$d/bin/java" ] || continue
    v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
    [ "${v%%.*}" -ge 21 ] 2>/dev/null && { java="$d/bin/java"; break; }
  done
  [ -n "$java" ] || { echo "no Java 21+ (set JAVA_HOME)" >&2; exit 2; }
  jar="$here/cli/target/cacheproxy.jar"
  [ -f "$jar" ] || { echo "build first: ./cacheproxy --version" >&2; exit 2; }
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
