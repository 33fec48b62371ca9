package io.cacheproxy.routing;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A ketama-style consistent hash ring. Each node gets {@code vnodes} points: the MD5 of
 * {@code "host:port-i"} yields four 32-bit little-endian points per digest, as in libketama and
 * twemproxy. A key maps to the first point at or after {@link KeyHash#hash} of its hash slice
 * ({@code {hash tag}} rules as in Redis Cluster), wrapping at the end.
 *
 * <p>The point layout depends only on the node names and {@code vnodes}, so every proxy with the
 * same node list agrees, across restarts; removing one node of N moves only the keys it owned
 * (about 1/N). Immutable and thread-safe; a topology change builds a new ring.
 */
public final class HashRing {
    private final int[] points;   // sorted, compared as unsigned
    private final int[] owners;   // node index of each point
    private final int nodeCount;

    /**
     * @param nodeNames node identities, normally {@code host:port}; their order gives the indexes
     *                  returned by {@link #nodeFor}
     * @param vnodes    points per node, rounded up to a multiple of 4
     */
    public HashRing(List<String> nodeNames, int vnodes) {
        Objects.requireNonNull(nodeNames, "nodeNames");
        if (nodeNames.isEmpty()) {
            throw new IllegalArgumentException("nodeNames: [] (expected: at least one node)");
        }
        if (vnodes < 1) {
            throw new IllegalArgumentException("vnodes: " + vnodes + " (expected: >= 1)");
        }
        int digestsPerNode = (vnodes + 3) / 4;
        int total = nodeNames.size() * digestsPerNode * 4;
        long[] packed = new long[total];
        MessageDigest md5 = md5();
        int n = 0;
        for (int node = 0; node < nodeNames.size(); node++) {
            for (int d = 0; d < digestsPerNode; d++) {
                byte[] digest = md5.digest((nodeNames.get(node) + "-" + d).getBytes(StandardCharsets.UTF_8));
                for (int h = 0; h < 4; h++) {
                    long point = ((digest[3 + h * 4] & 0xFFL) << 24) | ((digest[2 + h * 4] & 0xFFL) << 16)
                            | ((digest[1 + h * 4] & 0xFFL) << 8) | (digest[h * 4] & 0xFFL);
                    // sort by point, then by node index so that collisions resolve the same everywhere
                    packed[n++] = (point << 16) | node;
                }
            }
        }
        Arrays.sort(packed);
        points = new int[total];
        owners = new int[total];
        for (int i = 0; i < total; i++) {
            points[i] = (int) (packed[i] >>> 16);
            owners[i] = (int) (packed[i] & 0xFFFF);
        }
        nodeCount = nodeNames.size();
    }

    /** The node owning the key {@code buf[offset, offset+length)}. */
    public int nodeFor(ByteBuf buf, int offset, int length) {
        return nodeForHash(KeyHash.hash(buf, offset, length));
    }

    /** The node owning a key given as bytes. */
    public int nodeFor(byte[] key) {
        return nodeForHash(KeyHash.hash(key));
    }

    /** The node owning the ring position {@code hash} (unsigned). */
    public int nodeForHash(int hash) {
        return owners[firstPointAtOrAfter(hash)];
    }

    /** How many points the ring has; {@link #pointFor} returns one of {@code [0, points())}. */
    public int points() {
        return points.length;
    }

    /** The point a key with ring position {@code hash} (unsigned) maps to. */
    public int pointFor(int hash) {
        return firstPointAtOrAfter(hash);
    }

    /** Index of the first point >= hash (unsigned), wrapping to 0 past the last point. */
    private int firstPointAtOrAfter(int hash) {
        int lo = 0;
        int hi = points.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Integer.compareUnsigned(points[mid], hash) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo == points.length ? 0 : lo;
    }

    /**
     * The first {@code count} distinct nodes met walking the ring from the key's position: the
     * key's owner first, then its replicas.
     */
    public int[] nodesFor(int hash, int count) {
        return nodesFrom(firstPointAtOrAfter(hash), count);
    }

    /**
     * The first {@code count} distinct nodes met walking the ring from {@code point} (see
     * {@link #pointFor}): the owner of the keys at that point first, then their replicas.
     */
    public int[] nodesFrom(int point, int count) {
        int want = Math.min(count, nodeCount);
        int[] result = new int[want];
        int found = 0;
        int start = point;
        for (int i = 0; found < want && i < points.length; i++) {
            int owner = owners[(start + i) % points.length];
            boolean seen = false;
            for (int j = 0; j < found; j++) {
                seen |= result[j] == owner;
            }
            if (!seen) {
                result[found++] = owner;
            }
        }
        return result;
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every JDK", e);
        }
    }
}
