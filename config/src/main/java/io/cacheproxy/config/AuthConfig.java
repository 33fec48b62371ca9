package io.cacheproxy.config;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code auth}: who may connect. With no users, clients need no {@code AUTH}, like Redis without
 * {@code requirepass}; with users, every client must authenticate as one of them.
 *
 * @param users {@code users}: the users, names unique; empty = no authentication
 */
public record AuthConfig(List<UserConfig> users) {

    private static final AuthConfig NONE = new AuthConfig(List.of());

    public AuthConfig {
        users = List.copyOf(Objects.requireNonNull(users, "users"));
        Violations v = new Violations();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < users.size(); i++) {
            Integer first = seen.putIfAbsent(users.get(i).name(), i);
            v.require(first == null, "users[" + i + "].name", users.get(i).name(),
                    "a name not used before (users[" + first + "] has it)");
        }
        v.throwIfAny();
    }

    /** No users: authentication is off. */
    public static AuthConfig none() {
        return NONE;
    }

    /** Whether clients must {@code AUTH}. */
    public boolean enabled() {
        return !users.isEmpty();
    }
}
