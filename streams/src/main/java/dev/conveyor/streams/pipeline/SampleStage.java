package dev.conveyor.streams.pipeline;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The per-sample stage of a rank's stream (decoding, and the author's map after it), applied to
 * a group of consecutive events of one epoch at a time: the answer holds the same events in the
 * same order, each slot's sample replaced by what the stage made of it (or a dead letter saying
 * why it could not). Events that hold no sample pass unchanged. Groups, not single samples, so
 * that what hands samples over (to a decoder pool, to another node) does it once per group.
 */
@FunctionalInterface
public interface SampleStage {
  CompletionStage<List<ReadEvent>> apply(int epoch, List<ReadEvent> group);

  /** This stage, then {@code next} on what it answers (a group goes on only once this one answered it whole). */
  default SampleStage then(SampleStage next) {
    return (epoch, group) -> apply(epoch, group).thenCompose(done -> next.apply(epoch, done));
  }

  /** The stage that passes every event through unchanged (raw bytes). */
  SampleStage IDENTITY = (epoch, group) -> CompletableFuture.completedFuture(group);
}
