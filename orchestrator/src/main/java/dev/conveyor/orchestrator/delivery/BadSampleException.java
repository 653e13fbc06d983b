package dev.conveyor.orchestrator.delivery;

import dev.conveyor.streams.sample.DeadLetter;

/** A bad sample met a job whose policy is {@code on-bad-sample = fail}: exit code 3. */
public final class BadSampleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The bound on the share of bad samples was passed. */
  public BadSampleException(long bad, long consumed, double bound, DeadLetter last) {
    super(String.format(java.util.Locale.ROOT, "%d of %d samples consumed were bad (%.1f%%), over max-bad-fraction %.3f;"
        + " the last: %s %s: %s (see --dead-letter for all; raise conveyor.job.max-bad-fraction to go on)",
        bad, consumed, 100.0 * bad / consumed, bound, last.shard(), last.key(), last.reason()));
  }

  public BadSampleException(DeadLetter d) {
    super("bad sample in " + d.shard() + ": " + d.key() + ": " + d.reason()
        + " (on-bad-sample = fail; use --on-bad-sample skip to skip and record such samples)");
  }
}
