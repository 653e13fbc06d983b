package dev.conveyor.orchestrator.job;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.batch.Skipped;
import dev.conveyor.streams.sample.DeadLetter;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/** Counts, records and checkpoints what the merged stream delivers; runs on one thread at a time. */
final class Tally {
  final CursorTracker cursors;
  final JobOutputs outputs;
  final boolean failOnBad;
  final double maxBadFraction;
  final long t0;
  final Consumer<String> progress;
  final Optional<CursorStore> checkpoints;
  final int every;
  final int lastRank;
  long nextReport;
  long samples;
  long batches;
  long bytes;
  long bad;
  long lastStep;

  Tally(CursorTracker cursors, JobOutputs outputs, boolean failOnBad, double maxBadFraction, long t0,
        Consumer<String> progress, Optional<CursorStore> checkpoints, int every, int lastRank) {
    this.cursors = cursors;
    this.outputs = outputs;
    this.failOnBad = failOnBad;
    this.maxBadFraction = maxBadFraction;
    this.t0 = t0;
    this.progress = progress;
    this.checkpoints = checkpoints;
    this.every = every;
    this.lastRank = lastRank;
    this.nextReport = t0 + JobRunner.PROGRESS_INTERVAL_NANOS;
  }

  DeadLetter last;

  void problem(DeadLetter d) {
    bad++;
    last = d;
    outputs.deadLetter(d);
    if (failOnBad) {
      throw new BadSampleException(d);
    }
    checkBound(false);
  }

  /** Fails the run when dead letters pass max-bad-fraction: from 100 samples consumed on, or at the end. */
  void checkBound(boolean atEnd) {
    long consumed = samples + bad;
    if (bad > 0 && (atEnd || consumed >= 100) && bad > maxBadFraction * consumed) {
      throw new BadSampleException(bad, consumed, maxBadFraction, last);
    }
  }

  void accept(RankEvent e) {
    if (e instanceof Skipped s) {
      problem(s.deadLetter());
    } else if (e instanceof RawBatch b) {
      batches++;
      samples += b.samples().size();
      for (var sample : b.samples()) {
        // decoded: the tensor bytes a trainer receives; raw: the member bytes
        bytes += sample.deliveredBytes();
      }
      outputs.batch(b);
      cursors.delivered(b);
      lastStep = b.step();
      // in lockstep order the last served rank's batch closes the step for every rank
      if (every > 0 && b.rank() == lastRank && (b.step() + 1) % every == 0) {
        checkpoints.ifPresent(c -> c.save(cursors.cursor(), b.step()));
      }
      report();
    }
  }

  private void report() {
    long now = System.nanoTime();
    if (now >= nextReport) {
      nextReport = now + JobRunner.PROGRESS_INTERVAL_NANOS;
      double s = (now - t0) / 1e9;
      progress.accept(String.format(Locale.ROOT, "%,d samples, %,d batches, %.1f MB, %,d bad, %,.0f samples/s after %.0f s",
          samples, batches, bytes / 1e6, bad, samples / s, s));
    }
  }
}
