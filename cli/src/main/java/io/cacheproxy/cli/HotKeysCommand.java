package io.cacheproxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cacheproxy hotkeys [--top N] [--admin HOST:PORT]}: the hottest keys a running proxy reads
 * now, with their read counts (from L1's hot-key sketch, about one to two seconds' worth) and
 * whether L1 holds them, from the admin endpoint's {@code /status}.
 */
@Command(name = "hotkeys", mixinStandardHelpOptions = true,
        description = "List the hottest keys of a running proxy, their recent reads, and whether L1 holds them.")
final class HotKeysCommand implements Callable<Integer> {
    @Option(names = "--top", defaultValue = "10", description = "how many keys (at most 256; default ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--admin", defaultValue = "127.0.0.1:9121",
            description = "the proxy's admin address (admin.listen; default ${DEFAULT-VALUE})")
    String admin;

    @Option(names = "--json", description = "print the admin endpoint's L1 section as JSON")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (top < 1 || top > 256) {
            spec.commandLine().getErr().println("cacheproxy hotkeys: --top: " + top + " (expected: 1 to 256)");
            return Main.EXIT_USAGE;
        }
        JsonNode l1;
        try {
            HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(HttpRequest.newBuilder(URI.create("http://" + admin + "/status?top=" + top))
                            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                spec.commandLine().getErr().println("cacheproxy hotkeys: " + admin + "/status answered HTTP "
                        + response.statusCode());
                return Main.EXIT_RUNTIME;
            }
            l1 = new ObjectMapper().readTree(response.body()).path("l1");
        } catch (IOException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("cacheproxy hotkeys: cannot reach the admin endpoint at " + admin
                    + " (" + e.getMessage() + "); is the proxy running, and is --admin its admin.listen?");
            return Main.EXIT_RUNTIME;
        }
        if (json) {
            out.println(l1.toString());
            out.flush();
            return Main.EXIT_OK;
        }
        if (!l1.path("enabled").asBoolean()) {
            out.println("L1 is off (l1.enabled: false): no hot keys are tracked.");
            out.flush();
            return Main.EXIT_OK;
        }
        out.printf("L1: %,d entries, %,d bytes, hit ratio %.1f%%%n", l1.path("entries").asLong(),
                l1.path("bytes").asLong(), 100 * l1.path("hitRatio").asDouble());
        out.printf("%4s  %10s  %6s  %s%n", "rank", "reads~1-2s", "in L1", "key");
        int rank = 0;
        for (JsonNode key : l1.path("hotKeys")) {
            out.printf("%4d  %10d  %6s  %s%n", ++rank, key.path("reads").asLong(),
                    key.path("cached").asBoolean() ? "yes" : "no", key.path("key").asText());
        }
        if (rank == 0) {
            out.println("   (no key is read often enough yet)");
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
