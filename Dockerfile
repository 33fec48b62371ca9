# cacheproxy sidecar image.
#   docker build -t cacheproxy .
#   docker run --rm --network container:<app> -v $PWD/conf/cacheproxy.yaml:/etc/cacheproxy/cacheproxy.yaml cacheproxy
# As a sidecar it shares the application's network namespace, so the default 127.0.0.1 listeners work.

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

# --- run: a JRE 21 image, non-root ---
FROM eclipse-temurin:21-jre
RUN groupadd --system cacheproxy && useradd --system --gid cacheproxy --no-create-home cacheproxy \
    && mkdir -p /etc/cacheproxy /opt/cacheproxy
COPY --from=build /src/cli/target/cacheproxy.jar /opt/cacheproxy/cacheproxy.jar
COPY conf/cacheproxy.yaml /etc/cacheproxy/cacheproxy.yaml
COPY conf/logback.xml /etc/cacheproxy/logback.xml
USER cacheproxy
EXPOSE 6380 9121
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+UseParallelGC"
# /health on the admin port, without needing curl in the image
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/9121 && printf "GET /health HTTP/1.0\r\n\r\n" >&3 && head -1 <&3 | grep -q " 200 "'
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "-Dlogback.configurationFile=/etc/cacheproxy/logback.xml", \
            "-jar", "/opt/cacheproxy/cacheproxy.jar"]
CMD ["run", "--config", "/etc/cacheproxy/cacheproxy.yaml"]
