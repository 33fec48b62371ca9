package io.cacheproxy.routing;

import io.cacheproxy.resp.RespRequest;
import java.util.Arrays;

/**
 * Finds which arguments of a request are keys: from the table's first/last/step for commands with
 * fixed positions, and by reading the arguments for commands whose keys move (EVAL's numkeys,
 * ZUNIONSTORE's numkeys, XREAD's STREAMS, SORT's STORE, …), as Redis's own {@code getkeys}
 * procedures do.
 */
public final class KeyPositions {
    private static final int[] NONE = new int[0];

    private KeyPositions() {
    }

    /**
     * Indexes of the key arguments of {@code request}; an empty array for a command without keys;
     * null when the keys cannot be located (a malformed request: Redis will answer it with an error).
     */
    public static int[] of(CommandSpec spec, RespRequest request) {
        int argc = request.argCount();
        try {
            return switch (spec.name()) {
                case "eval", "eval_ro", "evalsha", "evalsha_ro", "fcall", "fcall_ro" -> counted(request, 2, 3);
                case "zunionstore", "zinterstore", "zdiffstore" -> prepend(1, counted(request, 2, 3));
                case "zunion", "zinter", "zdiff", "zintercard", "sintercard", "lmpop", "zmpop" -> counted(request, 1, 2);
                case "blmpop", "bzmpop" -> counted(request, 2, 3);
                case "xread", "xreadgroup" -> streams(request);
                case "sort", "sort_ro" -> withStore(request, 1, "STORE");
                case "georadius", "georadiusbymember" -> withStore(request, 1, "STORE", "STOREDIST");
                case "migrate" -> null;
                default -> fixed(spec, argc);
            };
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return null;
        }
    }

    private static int[] fixed(CommandSpec spec, int argc) {
        if (spec.firstKey() <= 0 || spec.firstKey() >= argc) {
            return spec.firstKey() <= 0 ? NONE : null;
        }
        int last = CommandTable.lastKeyIndex(spec, argc);
        int step = Math.max(1, spec.keyStep());
        int n = (last - spec.firstKey()) / step + 1;
        if (n <= 0) {
            return null;
        }
        int[] keys = new int[n];
        for (int i = 0; i < n; i++) {
            keys[i] = spec.firstKey() + i * step;
        }
        return keys;
    }

    /** numkeys at {@code countIndex}, then that many keys from {@code firstKey}. */
    private static int[] counted(RespRequest request, int countIndex, int firstKey) {
        long n = request.argLong(countIndex);
        if (n < 0 || firstKey + n > request.argCount()) {
            return null;
        }
        int[] keys = new int[(int) n];
        for (int i = 0; i < n; i++) {
            keys[i] = firstKey + i;
        }
        return keys;
    }

    private static int[] prepend(int first, int[] rest) {
        if (rest == null) {
            return null;
        }
        int[] keys = new int[rest.length + 1];
        keys[0] = first;
        System.arraycopy(rest, 0, keys, 1, rest.length);
        return keys;
    }

    /** XREAD/XREADGROUP … STREAMS k1 k2 id1 id2: the first half after STREAMS are keys. */
    private static int[] streams(RespRequest request) {
        int argc = request.argCount();
        for (int i = 1; i < argc; i++) {
            if (request.argEqualsIgnoreCase(i, STREAMS)) {
                int rest = argc - i - 1;
                if (rest <= 0 || rest % 2 != 0) {
                    return null;
                }
                int[] keys = new int[rest / 2];
                for (int k = 0; k < keys.length; k++) {
                    keys[k] = i + 1 + k;
                }
                return keys;
            }
        }
        return null;
    }

    /** A key at {@code keyIndex}, plus the argument after any of the {@code options} (a destination key). */
    private static int[] withStore(RespRequest request, int keyIndex, String... options) {
        int[] keys = {keyIndex};
        for (int i = keyIndex + 1; i + 1 < request.argCount(); i++) {
            for (String option : options) {
                if (request.argEqualsIgnoreCase(i, option.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
                    keys = Arrays.copyOf(keys, keys.length + 1);
                    keys[keys.length - 1] = i + 1;
                }
            }
        }
        return keys;
    }

    private static final byte[] STREAMS = {'S', 'T', 'R', 'E', 'A', 'M', 'S'};
}
