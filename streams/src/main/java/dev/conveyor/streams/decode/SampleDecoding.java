package dev.conveyor.streams.decode;

import static java.util.Objects.requireNonNull;

import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a decoder does to one sample, written once for every decoder: run the author's stages
 * meant for raw samples, decode its members with the sample's seeded random stream (crops,
 * flips), run the author's stages meant for decoded samples ({@link AuthorSteps}), then drop the
 * compressed members the tensors came from. Seeded by (recipe seed, epoch, shard, key), so a sample decodes to the same
 * bytes on any thread, on any node, in any run. One per decoder (the map instance may keep state).
 */
public final class SampleDecoding {
  private final SampleDecoder decoder;
  private final long seed;
  private final AuthorSteps steps;

  /** Decoding with {@code settings} for a recipe seeded {@code seed}, with the author's {@code steps} around it. */
  public SampleDecoding(DecodeSettings settings, long seed, AuthorSteps steps) {
    this.decoder = new SampleDecoder(requireNonNull(settings, "settings is null"));
    this.seed = seed;
    this.steps = requireNonNull(steps, "steps is null");
  }

  /** Decoding with {@code settings} for a recipe seeded {@code seed}, then {@code map} if given. */
  public SampleDecoding(DecodeSettings settings, long seed, Optional<SampleMap> map) {
    this(settings, seed, map.map(AuthorSteps::mapping).orElse(AuthorSteps.NONE));
  }

  /** An author's stage that failed on a sample: its decoder's state is suspect (restart it). */
  public static final class MapFailed extends Exception {
    private static final long serialVersionUID = 1L;

    MapFailed(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * {@code raw} of {@code epoch} through the author's stages and decoded, without the members its
   * picture and clip were decoded from ({@link SampleDecoder#withoutDecodedMedia}); or
   * {@link dev.conveyor.streams.sample.Filtered} when a filter left it out; or, after a flatMap,
   * {@link Expanded} with its outputs, each decoded and passed through the stages as a sample. Throws
   * {@link DecodeException} for media that does not decode (the sample is bad, the decoder fine)
   * and {@link MapFailed} when a stage throws; anything else the decoder throws propagates (its
   * state is suspect).
   */
  public ShardRecord apply(int epoch, RawSample raw) throws DecodeException, MapFailed {
    ShardRecord r = steps.run(true, seed, epoch, raw);
    if (r instanceof Expanded e) {
      // a flatMap before decoding: each output decoded, then through the stages after, as a sample of its own
      List<RawSample> decoded = new ArrayList<>(e.outputs().size());
      for (RawSample out : e.outputs()) {
        decoded.add(decoder.decode(out, SampleDecoder.random(seed, epoch, out)));
      }
      r = steps.runEach(false, seed, epoch, raw, new Expanded(e.shard(), e.key(), decoded, e.filtered()), new long[0]);
    } else if (r instanceof RawSample before) {
      r = steps.run(false, seed, epoch, decoder.decode(before, SampleDecoder.random(seed, epoch, raw)));
    } else {
      return r;
    }
    // the stages have seen the compressed members; nothing after them needs them (they would
    // double a clip's bytes between nodes)
    if (r instanceof Expanded e) {
      List<RawSample> outs = new ArrayList<>(e.outputs().size());
      e.outputs().forEach(o -> outs.add(o.decoded().isPresent() ? SampleDecoder.withoutDecodedMedia(o) : o));
      return new Expanded(e.shard(), e.key(), outs, e.filtered());
    }
    return r instanceof RawSample out && out.decoded().isPresent() ? SampleDecoder.withoutDecodedMedia(out) : r;
  }
}
