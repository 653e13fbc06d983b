package dev.conveyor.streams.store.cache;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;

/**
 * Which nodes own a cache entry: a fixed number of slots, each free or held by one member, and
 * for each key a pseudo-random sequence of slots (a pure function of the key); the key's owners
 * are the members of the first live slots in its sequence, the primary first, then replicas.
 *
 * <p>Why this shape: a key's first live slot is uniform over the live slots, so every member owns
 * the same share; when a member leaves, only the keys it owned move (each to the next live slot
 * of its own sequence, spread evenly over the rest), and a member that joins takes keys only
 * for itself. The owners depend on the current members alone, not on the order events arrived
 * in, so every node computes the same ones. A lookup costs about {@code slots / members}
 * probes; keep slots within a small multiple of the largest cluster expected.
 *
 * <p>Members take slots in name order, each the first free slot of the sequence of its name's
 * hash; a member whose preferred slot another holds (rare while slots far outnumber members)
 * may move when that one leaves.
 */
public final class SlotRing {
  private static final long STEP = 0x9E3779B97F4A7C15L;

  private final int slots;
  private final String[] members; // by slot; null where free
  private final BitSet live;
  private final int count;

  private SlotRing(String[] members, BitSet live) {
    this.slots = members.length;
    this.members = members;
    this.live = live;
    this.count = live.cardinality();
  }

  /** A ring of {@code slots} slots held by {@code members} (names; the order given does not matter). */
  public static SlotRing of(int slots, Collection<String> members) {
    if (members.size() > slots) {
      throw new IllegalArgumentException(members.size() + " members cannot share " + slots + " cache slots: raise"
          + " conveyor.cache.cluster.slots above the largest cluster you run");
    }
    String[] by = new String[slots];
    BitSet live = new BitSet(slots);
    for (String m : members.stream().sorted().distinct().toList()) {
      long h = hash(m);
      for (int i = 0; ; i++) {
        int s = slot(h, i, slots);
        if (!live.get(s)) {
          by[s] = m;
          live.set(s);
          break;
        }
      }
    }
    return new SlotRing(by, live);
  }

  /** A ring of {@code slots} slots, those set in {@code live} held (by members named by their slot numbers). */
  public static SlotRing ofSlots(int slots, BitSet live) {
    String[] by = new String[slots];
    return new SlotRing(by, (BitSet) live.clone());
  }

  public int members() {
    return count;
  }

  public int slots() {
    return slots;
  }

  /** The first live slot of the key with hash {@code key}. */
  public int primarySlot(long key) {
    if (count == 0) {
      throw new IllegalStateException("no live cache slot");
    }
    for (int i = 0; ; i++) {
      int s = slot(key, i, slots);
      if (live.get(s)) {
        return s;
      }
    }
  }

  /** The members owning the key with hash {@code key}: at most {@code replicas}, the primary first. */
  public List<String> owners(long key, int replicas) {
    List<String> out = new ArrayList<>(replicas);
    int want = Math.min(replicas, count);
    for (int i = 0; out.size() < want; i++) {
      int s = slot(key, i, slots);
      if (live.get(s) && !out.contains(members[s])) {
        out.add(members[s]);
      }
    }
    return out;
  }

  /** The members owning {@code key}, primary first. */
  public List<String> owners(CacheKey key, int replicas) {
    return owners(hash(key.object()), replicas);
  }

  /** A 64-bit hash of a name (FNV-1a, then mixed): the same on every JVM. */
  public static long hash(String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return mix(h);
  }

  /** The {@code i}-th slot of the sequence of the key with hash {@code key}. */
  static int slot(long key, int i, int slots) {
    return (int) Long.remainderUnsigned(mix(key + i * STEP), slots);
  }

  /** SplitMix64's finalizer. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
