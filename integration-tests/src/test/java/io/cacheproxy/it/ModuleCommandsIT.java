package io.cacheproxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Module commands (here RediSearch's {@code FT.*}, which the proxy's table does not know) through a
 * 3-node sharded pool: their keys are found through the backends' {@code COMMAND INFO} and they are
 * routed like built-in commands, with the replies a single Redis gives.
 */
class ModuleCommandsIT {
    /** Debian's redis-redisearch package (1.2.x, which loads into Redis 7); .ci/run installs it. */
    private static final Path REDISEARCH = Path.of("/usr/lib/redis/modules/redisearch.so");
    private static final List<LocalRedisServer> shards = new ArrayList<>();
    private static LocalRedisServer direct;
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        assertThat(REDISEARCH).as("RediSearch module; install it with: apt-get install redis-redisearch").exists();
        for (int i = 0; i < 3; i++) {
            LocalRedisServer shard = LocalRedisServer.withArgs("--loadmodule", REDISEARCH.toString());
            shards.add(shard);
            shard.start();
        }
        direct = LocalRedisServer.withArgs("--loadmodule", REDISEARCH.toString());
        direct.start();
        proxy = TestProxy.start(new ProxyYaml().pool("main", "", shards.toArray(new RedisFixture[0])));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        shards.forEach(LocalRedisServer::stop);
        if (direct != null) {
            direct.stop();
        }
    }

    private static List<String> run(RawRedisClient client, List<String[]> script) {
        List<String> replies = new ArrayList<>();
        for (String[] command : script) {
            replies.add(client.callString(command));
        }
        return replies;
    }

    @Test
    void shouldRouteModuleCommandsByTheKeysTheirCommandInfoNames() {
        List<String[]> script = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String index = "idx" + i;
            script.add(new String[] {"FT.CREATE", index, "SCHEMA", "title", "TEXT"});
            script.add(new String[] {"FT.ADD", index, "doc" + i, "1.0", "FIELDS", "title", "hello world " + i});
            script.add(new String[] {"FT.SEARCH", index, "hello", "NOCONTENT"});
        }
        List<String> expected;
        try (RawRedisClient client = RawRedisClient.connect(direct.host(), direct.port())) {
            expected = run(client, script);
        }
        try (RawRedisClient client = proxy.connect()) {
            assertThat(run(client, script)).isEqualTo(expected);
        }
        assertThat(expected.get(2)).as("the search found its document").isEqualTo("*2\r\n:1\r\n$4\r\ndoc0\r\n");
        // each index lives on exactly one shard, and the six are not all on one
        List<Integer> owners = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int holders = 0;
            for (int s = 0; s < shards.size(); s++) {
                try (RawRedisClient shard = RawRedisClient.connect(shards.get(s).host(), shards.get(s).port())) {
                    if (!shard.callString("FT.INFO", "idx" + i).startsWith("-")) {
                        holders++;
                        owners.add(s);
                    }
                }
            }
            assertThat(holders).as("shards holding idx" + i).isEqualTo(1);
        }
        assertThat(owners.stream().distinct().count()).isGreaterThan(1);
    }

    @Test
    void shouldLetTheBackendAnswerACommandNobodyKnows() {
        String expected;
        try (RawRedisClient client = RawRedisClient.connect(direct.host(), direct.port())) {
            expected = client.callString("NOSUCHCMD", "a", "b");
        }
        assertThat(expected).startsWith("-ERR unknown command 'NOSUCHCMD'");
        try (RawRedisClient client = proxy.connect()) {
            assertThat(client.callString("NOSUCHCMD", "a", "b")).isEqualTo(expected);
            assertThat(client.callString("NOSUCHCMD", "a", "b")).as("asked once, then known").isEqualTo(expected);
            assertThat(client.callString("PING")).isEqualTo("+PONG\r\n");
        }
    }
}
