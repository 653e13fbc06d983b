package dev.conveyor.streams.decode;

import dev.conveyor.streams.sample.RawSample;
import java.util.SplittableRandom;

/**
 * A pipeline author's filter: whether a sample goes on. It must be a pure function of the sample
 * and {@code random} (seeded by recipe seed, epoch, shard, sample and the stage's place), so that
 * every run, every node and every resume leaves out the same samples. A thrown exception makes
 * the sample a dead letter, as a map stage's does.
 */
@FunctionalInterface
public interface SampleFilter {
  boolean keep(RawSample sample, SplittableRandom random) throws Exception;
}
