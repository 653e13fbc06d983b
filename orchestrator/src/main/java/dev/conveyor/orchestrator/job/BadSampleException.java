package dev.conveyor.orchestrator.job;

import dev.conveyor.streams.sample.DeadLetter;

/** A bad sample met a job whose policy is {@code on-bad-sample = fail}: exit code 3. */
public final class BadSampleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadSampleException(DeadLetter d) {
    super("bad sample in " + d.shard() + ": " + d.key() + ": " + d.reason()
        + " (on-bad-sample = fail; use --on-bad-sample skip to skip and record such samples)");
  }
}
