package dev.conveyor.streams.batch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A decoded batch collated for a trainer: one contiguous off-heap buffer per tensor —
 * {@code images}, uint8 {@code [imageCount, H, W, 3]} (the samples with a picture, in batch
 * order), and {@code videos}, uint8 {@code [videoCount, T, H, W, 3]} — plus per-sample
 * metadata saying which row of which tensor holds the sample.
 *
 * <p>Ownership: the batch belongs to whoever received it; nothing else keeps a reference. Its
 * buffers are direct and are released when the batch becomes unreachable (the shared-memory
 * hand-off to trainer processes will add an explicit release to a ring slot).
 */
public final class TensorBatch {
  /**
   * Where one sample's data is — its rows in the tensors (-1: none) — and what describes it: its
   * label and caption (from a {@code json} member's "label" and "caption" fields, when present),
   * original size, sampled frame indices and text members.
   */
  public record SampleMeta(String shard, String key, int imageRow, int videoRow, java.util.OptionalLong label,
                           java.util.Optional<String> caption, int originalWidth, int originalHeight, int[] frameIndices,
                           Map<String, String> text) {}

  private final RawBatch batch;
  private final ByteBuffer images;
  private final int[] imageShape;
  private final ByteBuffer videos;
  private final int[] videoShape;
  private final List<SampleMeta> samples;

  private TensorBatch(RawBatch batch, ByteBuffer images, int[] imageShape, ByteBuffer videos, int[] videoShape, List<SampleMeta> samples) {
    this.batch = batch;
    this.images = images;
    this.imageShape = imageShape;
    this.videos = videos;
    this.videoShape = videoShape;
    this.samples = List.copyOf(samples);
  }

  /** Collates the decoded samples of {@code batch} (every sample must have been decoded). */
  public static TensorBatch of(RawBatch batch) {
    List<Decoded.Picture> pics = new ArrayList<>();
    List<Decoded.Clip> clips = new ArrayList<>();
    List<SampleMeta> meta = new ArrayList<>();
    for (RawSample s : batch.samples()) {
      Decoded d = s.decoded().orElseThrow(() -> new IllegalArgumentException("sample " + s.key() + " is not decoded"));
      int imageRow = d.image().isPresent() ? pics.size() : -1;
      int videoRow = d.video().isPresent() ? clips.size() : -1;
      d.image().ifPresent(pics::add);
      d.video().ifPresent(clips::add);
      int ow = d.image().map(Decoded.Picture::originalWidth).orElse(d.video().map(Decoded.Clip::originalWidth).orElse(0));
      int oh = d.image().map(Decoded.Picture::originalHeight).orElse(d.video().map(Decoded.Clip::originalHeight).orElse(0));
      int[] frames = d.video().map(Decoded.Clip::frameIndices).orElse(new int[0]);
      JsonNode json = Json.parseOrMissing(d.text().get("json"));
      OptionalLong label = json.path("label").isIntegralNumber() && json.path("label").canConvertToLong()
          ? OptionalLong.of(json.path("label").asLong()) : OptionalLong.empty();
      Optional<String> caption = json.path("caption").isTextual()
          ? Optional.of(json.path("caption").textValue()) : Optional.empty();
      meta.add(new SampleMeta(s.shard(), s.key(), imageRow, videoRow, label, caption, ow, oh, frames, d.text()));
    }
    int[] is = pics.isEmpty() ? new int[] {0, 0, 0, 3} : new int[] {pics.size(), pics.get(0).height(), pics.get(0).width(), 3};
    ByteBuffer images = ByteBuffer.allocateDirect(is[0] * is[1] * is[2] * 3);
    pics.forEach(p -> images.put(p.rgb()));
    int[] vs = clips.isEmpty() ? new int[] {0, 0, 0, 0, 3}
        : new int[] {clips.size(), clips.get(0).frames(), clips.get(0).height(), clips.get(0).width(), 3};
    ByteBuffer videos = ByteBuffer.allocateDirect(vs[0] * vs[1] * vs[2] * vs[3] * 3);
    clips.forEach(c -> videos.put(c.rgb()));
    return new TensorBatch(batch, images.flip(), is, videos.flip(), vs, meta);
  }

  public RawBatch batch() {
    return batch;
  }

  /** uint8 {@code [imageCount, H, W, 3]}, read-only view. */
  public ByteBuffer images() {
    return images.asReadOnlyBuffer();
  }

  public int[] imageShape() {
    return imageShape.clone();
  }

  /** uint8 {@code [videoCount, T, H, W, 3]}, read-only view. */
  public ByteBuffer videos() {
    return videos.asReadOnlyBuffer();
  }

  public int[] videoShape() {
    return videoShape.clone();
  }

  public List<SampleMeta> samples() {
    return samples;
  }
}
