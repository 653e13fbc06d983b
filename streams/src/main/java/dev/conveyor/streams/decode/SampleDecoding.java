package dev.conveyor.streams.decode;

import static java.util.Objects.requireNonNull;

import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.sample.RawSample;
import java.util.Optional;

/**
 * What a decoder does to one sample, written once for every decoder: decode its members with
 * the sample's seeded random stream (crops, flips), then run the author's {@link SampleMap}
 * with its own, then drop the compressed members the tensors came from. Seeded by (recipe seed, epoch, shard, key), so a sample decodes to the same
 * bytes on any thread, on any node, in any run. One per decoder (the map instance may keep state).
 */
public final class SampleDecoding {
  private final SampleDecoder decoder;
  private final long seed;
  private final Optional<SampleMap> map;

  /** Decoding with {@code settings} for a recipe seeded {@code seed}, then {@code map} if given. */
  public SampleDecoding(DecodeSettings settings, long seed, Optional<SampleMap> map) {
    this.decoder = new SampleDecoder(requireNonNull(settings, "settings is null"));
    this.seed = seed;
    this.map = requireNonNull(map, "map is null");
  }

  /** A map stage that failed on a sample: its decoder's state is suspect (restart it). */
  public static final class MapFailed extends Exception {
    private static final long serialVersionUID = 1L;

    MapFailed(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * {@code raw} of {@code epoch} decoded and mapped, without the members its picture and clip
   * were decoded from ({@link SampleDecoder#withoutDecodedMedia}). Throws {@link DecodeException} for media
   * that does not decode (the sample is bad, the decoder fine) and {@link MapFailed} when the
   * map throws; anything else the decoder throws propagates (its state is suspect).
   */
  public RawSample apply(int epoch, RawSample raw) throws DecodeException, MapFailed {
    RawSample out = decoder.decode(raw, SampleDecoder.random(seed, epoch, raw));
    if (map.isPresent()) {
      try {
        out = map.get().apply(out, SampleMap.random(seed, epoch, raw.shard(), raw.key()));
      } catch (Exception | LinkageError e) {
        throw new MapFailed("the map stage " + map.get().getClass().getName() + " failed (" + e + ")", e);
      }
    }
    // the map has seen the compressed members; nothing after it needs them (they would double a
    // clip's bytes between nodes)
    return out.decoded().isPresent() ? SampleDecoder.withoutDecodedMedia(out) : out;
  }
}
