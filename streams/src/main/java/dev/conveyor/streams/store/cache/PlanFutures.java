package dev.conveyor.streams.store.cache;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The next uses of cache entries according to the jobs registered with a cache: each job gives
 * the order in which it will read its objects ({@link PlanReads}) and reports the reads it
 * makes, which move its clock forward; an entry's next use is the nearest, over the jobs, of
 * its next read after that job's clock, counted in that job's reads from now (jobs are taken to
 * read at about the same pace). Entries no job will read again come back as
 * {@link NextUse#NEVER}. Thread-safe.
 */
public final class PlanFutures implements NextUse<CacheKey> {
  private final Map<String, Job> jobs = new TreeMap<>(); // by id: ties resolve the same way on every node

  private static final class Job {
    final Map<String, int[]> positions = new HashMap<>(); // object identity → positions in the job's reads
    final Map<Integer, String> identities = new HashMap<>(); // the job's object index → identity, once known
    final Map<Integer, List<Integer>> pending = new HashMap<>(); // positions of objects not yet identified
    long clock;

    void identify(int object, String identity, int[] at) {
      if (identities.putIfAbsent(object, identity) == null) {
        positions.merge(identity, at, Job::union);
      }
    }

    static int[] union(int[] a, int[] b) {
      int[] u = Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, u, a.length, b.length);
      Arrays.sort(u);
      return u;
    }

    long next(String identity, long after) {
      int[] p = positions.get(identity);
      if (p == null) {
        return NEVER;
      }
      int i = Arrays.binarySearch(p, (int) Math.min(Integer.MAX_VALUE, after));
      i = i >= 0 ? i : -i - 1;
      return i < p.length ? p[i] : NEVER;
    }
  }

  /**
   * Registers job {@code id} reading objects (indexes into its list of objects) in the order
   * {@code reads}; objects are identified by {@link #identify} as their identities become known.
   */
  public synchronized void register(String id, int[] reads) {
    Job j = new Job();
    Map<Integer, List<Integer>> at = new HashMap<>();
    for (int t = 0; t < reads.length; t++) {
      at.computeIfAbsent(reads[t], k -> new ArrayList<>()).add(t);
    }
    j.pending.putAll(at);
    jobs.put(id, j);
  }

  /** Job {@code id}'s object {@code object} is the entry named {@code identity}. */
  public synchronized void identify(String id, int object, String identity) {
    Job j = jobs.get(id);
    if (j == null) {
      return;
    }
    List<Integer> at = j.pending.remove(object);
    if (at != null) {
      j.identify(object, identity, at.stream().mapToInt(Integer::intValue).toArray());
    }
  }

  /** Job {@code id} read {@code identity}: its clock moves past that read. */
  public synchronized void read(String id, String identity) {
    Job j = jobs.get(id);
    if (j != null) {
      long at = j.next(identity, j.clock);
      if (at != NEVER) {
        j.clock = at + 1;
      }
    }
  }

  /** The job is done: its reads no longer count. */
  public synchronized void unregister(String id) {
    jobs.remove(id);
  }

  public synchronized boolean isEmpty() {
    return jobs.isEmpty();
  }

  /** Reads from now until {@code key}'s next read by any job, added to {@code time}. */
  @Override
  public synchronized long after(CacheKey key, long time) {
    long best = NEVER;
    for (Job j : jobs.values()) {
      long at = j.next(key.object(), j.clock);
      if (at != NEVER) {
        best = Math.min(best, at - j.clock);
      }
    }
    return best == NEVER ? NEVER : time + best;
  }
}
