package dev.conveyor.streams.decode;

import dev.conveyor.streams.sample.RawSample;
import java.util.SplittableRandom;

/**
 * A pipeline author's own per-sample stage, run after decoding, in the decoder pool (Ray Data's
 * {@code map}). It takes a decoded sample ({@link RawSample#decoded()} is present) and returns
 * the sample to deliver. {@code random} is seeded by (recipe seed, epoch, shard, sample), so an
 * augmentation drawn from it is the same on every run and on every node; nothing else may be
 * random. A thrown exception makes the sample a dead letter and restarts the decoder that ran it.
 * The decoded arrays ({@code Decoded.Picture#rgb}, {@code Decoded.Clip#rgb} and its frame
 * indices) are the sample's own — made for it by its decoder, held by nothing else — so a stage
 * may change them in place rather than copy them (a copy of every tensor costs a fast pipeline
 * about a tenth of its throughput in allocation and collection).
 * Implementations have a public no-argument constructor: every node makes its own from the class
 * name, which must be on its class path.
 */
@FunctionalInterface
public interface SampleMap {
  RawSample apply(RawSample decoded, SplittableRandom random) throws Exception;

  /** The map stage's random stream for a sample: its own, apart from the decoder's crops and flips. */
  static SplittableRandom random(long recipeSeed, int epoch, String shard, String key) {
    return dev.conveyor.streams.plan.Seeds.random(recipeSeed, epoch, dev.conveyor.streams.plan.StableHash.of(shard),
        dev.conveyor.streams.plan.StableHash.of(key), MAP_STREAM);
  }

  /** The seed path step of the map stage's stream ("map"). */
  long MAP_STREAM = 0x6d6170L;

  /** An instance of the class named {@code className} (see {@link AuthorClasses}), or a clear error. */
  static SampleMap named(String className) {
    return AuthorClasses.instance(className, SampleMap.class);
  }
}
