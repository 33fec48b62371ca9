package io.cacheproxy.proxy.l1;

import io.cacheproxy.resp.RespVersion;
import java.util.Arrays;

/**
 * What L1 holds for one Redis key: the cached replies of the reads of it ({@link Variant}s: GET,
 * HGET field, LRANGE 0 9 …, each per protocol version). A key's entry is dropped as a whole when
 * the key is invalidated. Immutable: adding a variant makes a new entry, so Caffeine's weigher sees
 * every change.
 */
final class Entry {
    /** Bookkeeping bytes counted per entry and per variant on top of the bytes they hold. */
    private static final int ENTRY_OVERHEAD = 64;
    private static final int VARIANT_OVERHEAD = 80;

    final Variant[] variants;
    final int weight;

    /**
     * One cached reply.
     *
     * @param commandId     the read command ({@code CommandSpec.id()})
     * @param protocol      the protocol version the reply is in
     * @param args          the command's arguments after the key (see {@link NearCache#argsAfterKey})
     * @param reply         the reply's exact bytes
     * @param expiresAt     {@link System#nanoTime()} after which it is not served
     * @param node          the node it was read from
     * @param nodeEpoch     {@link TrackedNode#epoch()} when its read was sent
     * @param flushEpoch    {@link NearCache}'s flush epoch when its read was sent
     */
    record Variant(int commandId, RespVersion protocol, byte[] args, byte[] reply, long expiresAt,
                   TrackedNode node, int nodeEpoch, long flushEpoch) {

        boolean matches(int commandId, RespVersion protocol, byte[] args) {
            return this.commandId == commandId && this.protocol == protocol && Arrays.equals(this.args, args);
        }
    }

    private Entry(Variant[] variants, int weight) {
        this.variants = variants;
        this.weight = weight;
    }

    static Entry of(int keyLength, Variant variant) {
        return new Entry(new Variant[] {variant}, ENTRY_OVERHEAD + keyLength + weight(variant));
    }

    /** This entry with {@code variant} added, replacing the one for the same read if there is one. */
    Entry with(Variant variant) {
        for (int i = 0; i < variants.length; i++) {
            if (variants[i].matches(variant.commandId(), variant.protocol(), variant.args())) {
                Variant[] copy = variants.clone();
                copy[i] = variant;
                return new Entry(copy, weight - weight(variants[i]) + weight(variant));
            }
        }
        Variant[] copy = Arrays.copyOf(variants, variants.length + 1);
        copy[variants.length] = variant;
        return new Entry(copy, weight + weight(variant));
    }

    Variant find(int commandId, RespVersion protocol, byte[] args) {
        for (Variant v : variants) {
            if (v.matches(commandId, protocol, args)) {
                return v;
            }
        }
        return null;
    }

    TrackedNode node() {
        return variants[0].node();
    }

    private static int weight(Variant v) {
        return VARIANT_OVERHEAD + v.args().length + v.reply().length;
    }
}
