package dev.conveyor.sim.history;

import java.util.List;

/**
 * One line of a simulation's history: what was delivered, saved, done to the cluster, and
 * measured. {@code t} is milliseconds since the simulation's job began (-1 where a time is not known).
 */
public sealed interface Event {
  /**
   * A job run (the first, or a resume after the trainer host went down): how it began and ended;
   * {@code hostLost} when it ended because the trainer host went down.
   */
  record Attempt(int attempt, long t, String resume, String resumedFrom, String fellBack, int exit, String cursor,
                 long badSamples, boolean hostLost) implements Event {
    /** What {@code resume} says when the run found latest.cursor damaged (it must then say it fell back). */
    public static final String TORN = "(latest.cursor torn)";
  }

  /** A batch delivered to rank {@code rank}'s trainer in run {@code attempt}: its bytes' and sample keys' sha256. */
  record Batch(int attempt, int epoch, int rank, long step, String digest, String keysDigest, List<String> keys)
      implements Event {
    public Batch {
      keys = List.copyOf(keys);
    }
  }

  /** A cursor the job saved in its checkpoint directory, seen at {@code t}. */
  record Checkpoint(int attempt, long t, String cursor) implements Event {}

  /** A sample that could not be delivered, as the run's dead-letter file lists it. */
  record DeadLetter(int attempt, String shard, String key, String reason) implements Event {}

  /** A fault the nemesis applied (or could not: {@code applied} false, {@code detail} says why). */
  record Fault(long t, String fault, String action, int node, boolean applied, String detail) implements Event {
    /**
     * How the detail of a fault that was done but not as the scenario said begins: it struck at
     * another batch than its own, or an S3 fault faulted no request. The checker calls it
     * {@code fault-missed}.
     */
    public static final String MISSED = "missed: ";
  }

  /** A node's work counter at {@code t}: samples its readers sent (workers) or its ranks delivered (the trainer host). */
  record Progress(long t, int node, String role, double samples) implements Event {}
}
