# cacheproxy sidecar image.
#   docker build -t cacheproxy .
#   docker run --rm -p 6380:6380 -p 9121:9121 -v $PWD/my.yaml:/etc/cacheproxy/cacheproxy.yaml cacheproxy
#   docker run --rm -e JAVA_OPTS="-Xmx512m -XX:+UseZGC" ... cacheproxy      # extra JVM flags
# The config baked into the image is conf/cacheproxy.yaml with both listeners on 0.0.0.0 (6380 for
# Redis clients, 9121 for /metrics /health /ready), so published ports work; mount your own config
# over /etc/cacheproxy/cacheproxy.yaml, or pass `run --config FILE`. As a Kubernetes sidecar see
# conf/k8s/. The HEALTHCHECK asks GET /ready on 127.0.0.1:$CACHEPROXY_ADMIN_PORT (default 9121):
# keep admin.listen on 0.0.0.0 or 127.0.0.1 with that port.

# --- build: the Maven wrapper on a JDK 21 image ---
FROM eclipse-temurin:21-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY resp-codec/pom.xml resp-codec/
COPY routing/pom.xml routing/
COPY config/pom.xml config/
COPY proxy/pom.xml proxy/
COPY cli/pom.xml cli/
COPY integration-tests/pom.xml integration-tests/
COPY benchmarks/pom.xml benchmarks/
RUN ./mvnw -B -q -pl cli -am dependency:go-offline || true
COPY . .
RUN ./mvnw -B -q -DskipTests -pl cli -am package
# The image's config: the documented example with both listeners on all interfaces (checked, so a
# changed example file fails the build instead of shipping loopback-only listeners).
RUN mkdir -p /out \
    && sed -e 's/^  listen: 127\.0\.0\.1:6380 /  listen: 0.0.0.0:6380   /' \
           -e 's/^  listen: 127\.0\.0\.1:9121 /  listen: 0.0.0.0:9121   /' \
           conf/cacheproxy.yaml > /out/cacheproxy.yaml \
    && grep -q '^  listen: 0\.0\.0\.0:6380 ' /out/cacheproxy.yaml \
    && grep -q '^  listen: 0\.0\.0\.0:9121 ' /out/cacheproxy.yaml

# --- run: a JRE 21 image (glibc, so Netty's epoll/io_uring transports load), non-root ---
FROM eclipse-temurin:21-jre
# A fixed numeric UID/GID, so Kubernetes' runAsNonRoot can verify it without a runAsUser.
RUN groupadd --system --gid 10001 cacheproxy \
    && useradd --system --uid 10001 --gid cacheproxy --no-create-home --shell /usr/sbin/nologin cacheproxy \
    && mkdir -p /etc/cacheproxy /opt/cacheproxy
COPY --from=build /src/cli/target/cacheproxy.jar /opt/cacheproxy/cacheproxy.jar
COPY --from=build /out/cacheproxy.yaml /etc/cacheproxy/cacheproxy.yaml
COPY conf/logback.xml /etc/cacheproxy/logback.xml
USER 10001:10001
EXPOSE 6380 9121
# JAVA_OPTS: extra JVM flags, appended after the defaults below (so they win, e.g. -XX:MaxRAMPercentage=50).
ENV JAVA_OPTS="" \
    CACHEPROXY_ADMIN_PORT=9121
# /ready on the admin port (200 only when every shard has a reachable node), without curl in the image
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${CACHEPROXY_ADMIN_PORT:-9121} && printf 'GET /ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# exec: java is PID 1 and gets SIGTERM (drain, then exit 0). $JAVA_OPTS is split on spaces on purpose.
ENTRYPOINT ["/bin/sh", "-c", "exec java --enable-native-access=ALL-UNNAMED -Dio.netty.noUnsafe=false -XX:MaxRAMPercentage=75 -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError -Dlogback.configurationFile=/etc/cacheproxy/logback.xml $JAVA_OPTS -jar /opt/cacheproxy/cacheproxy.jar \"$@\"", "cacheproxy"]
CMD ["run", "--config", "/etc/cacheproxy/cacheproxy.yaml"]
