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
 * its next read after that job's clock, in reads from now: the job's distance in its own plan
 * divided by its pace (how far its clock has moved per read reported by all jobs since it
 * registered). Entries no job will read again come back as {@link NextUse#NEVER}. Thread-safe.
 */
public final class PlanFutures implements NextUse<CacheKey> {
  private final Map<String, Job> jobs = new TreeMap<>(); // by id: ties resolve the same way on every node
  private long seen; // reads reported, of all jobs

  private static final class Job {
    final Map<String, int[]> positions = new HashMap<>(); // object identity → positions in the job's reads
    final Map<Integer, List<Integer>> pending = new HashMap<>(); // positions of objects not yet identified
    final int slack;
    final long since; // the reads of all jobs when this one registered
    final java.util.BitSet done = new java.util.BitSet(); // positions read
    final int[] reads; // the objects in reading order
    long clock;

    Job(int[] reads, int slack, long since) {
      this.reads = reads;
      this.slack = slack;
      this.since = since;
    }

    /** Plan positions this job moves per read of any job: its pace against the others'. */
    double pace(long reads) {
      return (clock + 1.0) / (reads - since + 1.0);
    }


    static int[] union(int[] a, int[] b) {
      int[] u = Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, u, a.length, b.length);
      Arrays.sort(u);
      return u;
    }

    /** The first position of {@code identity} not read yet, from {@code slack} places behind the clock on. */
    long next(String identity) {
      int[] p = positions.get(identity);
      if (p == null) {
        return NEVER;
      }
      int i = Arrays.binarySearch(p, (int) Math.min(Integer.MAX_VALUE, Math.max(0, clock - slack)));
      for (i = i >= 0 ? i : -i - 1; i < p.length; i++) {
        if (!done.get(p[i])) {
          return p[i];
        }
      }
      return NEVER;
    }
  }

  /**
   * Registers job {@code id} reading objects (indexes into its list of objects) in the order
   * {@code reads}; objects are identified by {@link #identify} as their identities become known.
   * Reads arrive up to {@code slack} places out of that order (ranks of one step read in no
   * fixed order): a read that far behind the job's clock is that read, not the next one.
   */
  public synchronized void register(String id, int[] reads, int slack) {
    Job j = new Job(reads.clone(), slack, seen);
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
      j.positions.merge(identity, at.stream().mapToInt(Integer::intValue).toArray(), Job::union);
    }
  }

  /**
   * Job {@code id} read {@code identity}: its first unread position in the plan (from the slack
   * behind the clock on) is done, and the clock moves past it.
   */
  public synchronized void read(String id, String identity) {
    Job j = jobs.get(id);
    seen++;
    if (j != null) {
      long at = j.next(identity);
      if (at != NEVER) {
        j.done.set((int) at);
        j.clock = Math.max(j.clock, at + 1);
      }
    }
  }

  /**
   * The objects job {@code id} reads next, not read yet, at most {@code n} of them in reading
   * order (each once): what its cache may fetch ahead.
   */
  public synchronized List<Integer> upcoming(String id, int n) {
    Job j = jobs.get(id);
    List<Integer> out = new ArrayList<>();
    if (j == null) {
      return out;
    }
    for (long p = Math.max(0, j.clock - j.slack); p < j.reads.length && out.size() < n; p++) {
      if (!j.done.get((int) p) && !out.contains(j.reads[(int) p])) {
        out.add(j.reads[(int) p]);
      }
    }
    return out;
  }

  /** The job is done: its reads no longer count. */
  public synchronized void unregister(String id) {
    jobs.remove(id);
  }

  public synchronized boolean isEmpty() {
    return jobs.isEmpty();
  }

  /**
   * Reads (of all jobs) from now until {@code key}'s next read by any job, added to
   * {@code time}: each job's distance in its own plan positions, divided by its pace.
   */
  @Override
  public synchronized long after(CacheKey key, long time) {
    double best = Double.MAX_VALUE;
    for (Job j : jobs.values()) {
      long at = j.next(key.object());
      if (at != NEVER) {
        best = Math.min(best, Math.max(0, at - j.clock) / j.pace(seen));
      }
    }
    return best == Double.MAX_VALUE ? NEVER : time + (long) Math.min(best, 1e15);
  }
}
