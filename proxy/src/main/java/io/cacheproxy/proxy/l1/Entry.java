package io.cacheproxy.proxy.l1;

import io.cacheproxy.resp.RespVersion;
import java.util.Arrays;

/**
 * What L1 holds for one Redis key: the cached reply of one read of it (GET, HGET field, LRANGE 0 9
 * …, in one protocol version), and in {@link #others} those of its other reads, if any. A key's
 * entry is dropped as a whole when the key is invalidated. The first read's fields sit in the entry
 * itself: most keys have one, and a hit in a large cache is bound by the memory loads it waits for.
 * Immutable: adding a read makes a new entry, so Caffeine's weigher sees every change.
 */
final class Entry {
    /** Bookkeeping bytes counted per entry and per read on top of the bytes they hold. */
    private static final int ENTRY_OVERHEAD = 64;
    private static final int READ_OVERHEAD = 80;

    /** The read ({@code CommandSpec.id()}). */
    final int commandId;
    /** The protocol version the reply is in. */
    final RespVersion protocol;
    /** The command's arguments after the key (see {@link NearCache#argsAfterKey}). */
    final byte[] args;
    /** The reply's exact bytes. */
    final byte[] reply;
    /** {@link System#nanoTime()} after which it is not served: the earlier of l1.max-ttl and the key's TTL. */
    final long expiresAt;
    /** The node it was read from, and that node's {@link TrackedNode#epoch()} when the read was sent. */
    final TrackedNode node;
    final int nodeEpoch;
    /** {@link NearCache}'s flush epoch when the read was sent. */
    final long flushEpoch;
    /** The key's other cached reads (each without others of its own); null for none. */
    final Entry[] others;
    final int weight;

    Entry(int commandId, RespVersion protocol, byte[] args, byte[] reply, long expiresAt, TrackedNode node,
          int nodeEpoch, long flushEpoch) {
        this(commandId, protocol, args, reply, expiresAt, node, nodeEpoch, flushEpoch, null, 0);
    }

    private Entry(int commandId, RespVersion protocol, byte[] args, byte[] reply, long expiresAt, TrackedNode node,
                  int nodeEpoch, long flushEpoch, Entry[] others, int othersWeight) {
        this.commandId = commandId;
        this.protocol = protocol;
        this.args = args;
        this.reply = reply;
        this.expiresAt = expiresAt;
        this.node = node;
        this.nodeEpoch = nodeEpoch;
        this.flushEpoch = flushEpoch;
        this.others = others;
        this.weight = ENTRY_OVERHEAD + ownWeight() + othersWeight;
    }

    /** A new key's entry of one read. */
    static Entry of(int keyLength, Entry read) {
        return new Entry(read.commandId, read.protocol, read.args, read.reply, read.expiresAt, read.node,
                read.nodeEpoch, read.flushEpoch, null, keyLength);
    }

    boolean matches(int commandId, RespVersion protocol, byte[] args) {
        return this.commandId == commandId && this.protocol == protocol && Arrays.equals(this.args, args);
    }

    /** The cached read {@code commandId key args} in {@code protocol}, or null. */
    Entry find(int commandId, RespVersion protocol, byte[] args) {
        if (matches(commandId, protocol, args)) {
            return this;
        }
        if (others != null) {
            for (Entry e : others) {
                if (e.matches(commandId, protocol, args)) {
                    return e;
                }
            }
        }
        return null;
    }

    /** This entry with {@code read} (an entry of one read) added, replacing the one for the same read if any. */
    Entry with(Entry read, int keyLength) {
        if (matches(read.commandId, read.protocol, read.args)) {
            return new Entry(read.commandId, read.protocol, read.args, read.reply, read.expiresAt, read.node,
                    read.nodeEpoch, read.flushEpoch, others, keyLength + othersWeight());
        }
        Entry[] more;
        if (others == null) {
            more = new Entry[] {read};
        } else {
            more = others.clone();
            int i = 0;
            while (i < more.length && !more[i].matches(read.commandId, read.protocol, read.args)) {
                i++;
            }
            if (i == more.length) {
                more = Arrays.copyOf(more, more.length + 1);
            }
            more[i] = read;
        }
        int moreWeight = 0;
        for (Entry e : more) {
            moreWeight += e.ownWeight();
        }
        return new Entry(commandId, protocol, args, reply, expiresAt, node, nodeEpoch, flushEpoch, more,
                keyLength + moreWeight);
    }

    /** This entry's reads: itself, then its others. */
    Entry[] reads() {
        if (others == null) {
            return new Entry[] {this};
        }
        Entry[] all = new Entry[others.length + 1];
        all[0] = this;
        System.arraycopy(others, 0, all, 1, others.length);
        return all;
    }

    private int ownWeight() {
        return READ_OVERHEAD + args.length + reply.length;
    }

    private int othersWeight() {
        int w = 0;
        if (others != null) {
            for (Entry e : others) {
                w += e.ownWeight();
            }
        }
        return w;
    }
}
