package dev.conveyor.streams.decode;

import dev.conveyor.streams.sample.RawSample;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A pipeline author's stage that makes one sample into several (Ray Data's {@code flat_map}):
 * a video into its clips, a document into its chunks. It returns the outputs in order — each
 * goes through the stages after it, and is delivered, as a sample of its own; none leaves the
 * sample out (counted as filtered). It must be a pure function of the sample and {@code random}
 * (seeded by recipe seed, epoch, shard, sample and the stage's place), so that a resume between
 * two outputs of one sample goes on at the next. The stages after it draw each output's random
 * stream from the sample and the output's number; give each output a key of its own (e.g. the
 * sample's key and that number), which record files and dead letters name.
 */
@FunctionalInterface
public interface SampleFlatMap {
  List<RawSample> apply(RawSample sample, SplittableRandom random) throws Exception;
}
