package dev.conveyor.workers.feeder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.decode.PixelBuffers;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A batch laid out for a ring slot, without gathering its bytes first: each tensor field lists
 * the samples' arrays as its parts, which the ring copies once, into the slot.
 *
 * <p>A decoded batch has {@code images} (uint8 {@code [n, H, W, 3]}, the samples with a picture,
 * in batch order) with {@code image_row} (int32 {@code [N]}: a sample's row, -1 for none),
 * {@code videos} (uint8 {@code [n, T, H, W, 3]}) with {@code video_row} and
 * {@code frame_indices} (int32 {@code [n, T]}), and {@code label} (int64 {@code [N]}, -1 for
 * none) when a sample's {@code json} member has an integral "label"; its text members go in the
 * slot's meta as {@code texts}, one object per sample, in member order. A batch of raw samples
 * has, per member extension, {@code raw.EXT} (uint8, the members' bytes one after another) and
 * {@code raw.EXT.offsets} (int64 {@code [N + 1]}); meta {@code members} lists each sample's
 * extensions in order. Meta also holds the batch's {@code epoch}, {@code step}, {@code rank}
 * and {@code index}.
 */
public final class RingBatches {
  private RingBatches() {}

  /** {@code batch} for a ring slot, with {@code cursor}: where the job stands once the trainer has it. */
  public static ShmRing.Batch of(RawBatch batch, String cursor) {
    return of(batch, cursor, List.of());
  }

  /**
   * The same; in a mix, meta {@code sources} says what each of the {@code sources} (by name, in
   * order) gave the batch: {@code {"web": {"samples": 22, "filtered": 0, "bad": 1}, …}}.
   */
  public static ShmRing.Batch of(RawBatch batch, String cursor, List<String> sources) {
    List<RawSample> samples = batch.samples();
    ObjectNode meta = Json.object().put("epoch", batch.epoch()).put("step", batch.step()).put("rank", batch.rank())
        .put("index", batch.index());
    if (batch.sources().sources() > 0 && batch.sources().sources() == sources.size()) {
      ObjectNode by = meta.putObject("sources");
      for (int i = 0; i < sources.size(); i++) {
        by.putObject(sources.get(i)).put("samples", batch.sources().samples()[i])
            .put("filtered", batch.sources().filtered()[i]).put("bad", batch.sources().bad()[i]);
      }
    }
    long decoded = samples.stream().filter(s -> s.decoded().isPresent()).count();
    if (decoded != 0 && decoded != samples.size()) {
      throw new IllegalArgumentException("batch " + batch.step() + " mixes decoded and raw samples");
    }
    List<ShmRing.Field> fields = decoded > 0 ? decodedFields(samples, meta) : rawFields(samples, meta);
    return new ShmRing.Batch(cursor, samples.stream().map(RawSample::key).toList(), fields, meta);
  }

  private static List<ShmRing.Field> decodedFields(List<RawSample> samples, ObjectNode meta) {
    int n = samples.size();
    List<ByteBuffer> pictures = new ArrayList<>();
    List<ByteBuffer> clips = new ArrayList<>();
    int[] imageRow = new int[n];
    int[] videoRow = new int[n];
    long[] label = new long[n];
    boolean labelled = false;
    List<int[]> frames = new ArrayList<>();
    int[] imageShape = null;
    int[] videoShape = null;
    ArrayNode texts = meta.putArray("texts");
    for (int i = 0; i < n; i++) {
      RawSample s = samples.get(i);
      Decoded d = s.decoded().orElseThrow();
      imageRow[i] = -1;
      videoRow[i] = -1;
      if (d.image().isPresent()) {
        Decoded.Picture p = d.image().get();
        imageShape = same(imageShape, new int[] {p.height(), p.width(), 3}, "image", s);
        imageRow[i] = pictures.size();
        pictures.add(ByteBuffer.wrap(p.rgb()));
      }
      if (d.video().isPresent()) {
        Decoded.Clip c = d.video().get();
        videoShape = same(videoShape, new int[] {c.frames(), c.height(), c.width(), 3}, "video", s);
        videoRow[i] = clips.size();
        clips.add(ByteBuffer.wrap(c.rgb()));
        frames.add(c.frameIndices());
      }
      ObjectNode t = texts.addObject();
      for (Member m : s.members()) {
        String text = d.text().get(m.ext());
        if (text != null) {
          t.put(m.ext(), text);
        }
      }
      label[i] = -1;
      JsonNode json = Json.parseOrMissing(d.text().get("json"));
      if (json.path("label").isIntegralNumber() && json.path("label").canConvertToLong()) {
        label[i] = json.path("label").asLong();
        labelled = true;
      }
    }
    List<ShmRing.Field> fields = new ArrayList<>();
    if (imageShape != null) {
      fields.add(new ShmRing.Field("images", "uint8", prepend(pictures.size(), imageShape), pictures));
      fields.add(ints("image_row", imageRow));
    }
    if (videoShape != null) {
      fields.add(new ShmRing.Field("videos", "uint8", prepend(clips.size(), videoShape), clips));
      fields.add(ints("video_row", videoRow));
      int t = videoShape[0];
      ByteBuffer f = ByteBuffer.allocate(clips.size() * t * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int[] ix : frames) {
        for (int v : ix) {
          f.putInt(v);
        }
      }
      fields.add(new ShmRing.Field("frame_indices", "int32", new int[] {clips.size(), t}, f.flip()));
    }
    if (labelled) {
      ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (long v : label) {
        b.putLong(v);
      }
      fields.add(new ShmRing.Field("label", "int64", new int[] {n}, b.flip()));
    }
    fields.addAll(tokenFields(samples, meta));
    return fields;
  }

  /**
   * The samples' token arrays by name, int32: {@code [N, L]} when every sample's has length
   * {@code L} (packed rows), else all of them end to end with {@code NAME.offsets} (int64
   * {@code [N + 1]}), as raw members are.
   */
  private static List<ShmRing.Field> tokenFields(List<RawSample> samples, ObjectNode meta) {
    Map<String, List<int[]>> byName = new java.util.TreeMap<>();
    for (RawSample s : samples) {
      s.decoded().orElseThrow().tokens().keySet().forEach(k -> byName.putIfAbsent(k, new ArrayList<>()));
    }
    ArrayNode names = meta.putArray("tokens");
    byName.keySet().forEach(names::add);
    List<ShmRing.Field> fields = new ArrayList<>();
    int n = samples.size();
    for (Map.Entry<String, List<int[]>> e : byName.entrySet()) {
      long total = 0;
      java.util.Set<Integer> lengths = new java.util.HashSet<>();
      long[] offsets = new long[n + 1];
      for (int i = 0; i < n; i++) {
        int[] t = samples.get(i).decoded().orElseThrow().tokens().getOrDefault(e.getKey(), new int[0]);
        e.getValue().add(t);
        lengths.add(t.length);
        total += t.length;
        offsets[i + 1] = total;
      }
      ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(total * 4)).order(ByteOrder.LITTLE_ENDIAN);
      for (int[] t : e.getValue()) {
        for (int v : t) {
          b.putInt(v);
        }
      }
      if (lengths.size() == 1) {
        fields.add(new ShmRing.Field(e.getKey(), "int32", new int[] {n, lengths.iterator().next()}, b.flip()));
      } else {
        fields.add(new ShmRing.Field(e.getKey(), "int32", new int[] {Math.toIntExact(total)}, b.flip()));
        ByteBuffer o = ByteBuffer.allocate((n + 1) * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : offsets) {
          o.putLong(v);
        }
        fields.add(new ShmRing.Field(e.getKey() + ".offsets", "int64", new int[] {n + 1}, o.flip()));
      }
    }
    return fields;
  }

  private static List<ShmRing.Field> rawFields(List<RawSample> samples, ObjectNode meta) {
    int n = samples.size();
    Map<String, List<ByteBuffer>> parts = new LinkedHashMap<>();
    Map<String, long[]> offsets = new LinkedHashMap<>();
    ArrayNode members = meta.putArray("members");
    for (int i = 0; i < n; i++) {
      ArrayNode exts = members.addArray();
      for (Member m : samples.get(i).members()) {
        exts.add(m.ext());
        m.data().getByteBuffers().forEach(parts.computeIfAbsent(m.ext(), e -> new ArrayList<>())::add);
        long[] o = offsets.computeIfAbsent(m.ext(), e -> new long[n + 1]);
        o[i + 1] += m.data().size();
      }
    }
    List<ShmRing.Field> fields = new ArrayList<>();
    for (Map.Entry<String, long[]> e : offsets.entrySet()) {
      long[] o = e.getValue();
      ByteBuffer b = ByteBuffer.allocate((n + 1) * 8).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(0);
      for (int i = 1; i <= n; i++) {
        o[i] += o[i - 1];
        b.putLong(o[i]);
      }
      fields.add(new ShmRing.Field("raw." + e.getKey(), "uint8", new int[] {Math.toIntExact(o[n])}, parts.get(e.getKey())));
      fields.add(new ShmRing.Field("raw." + e.getKey() + ".offsets", "int64", new int[] {n + 1}, b.flip()));
    }
    return fields;
  }

  private static int[] same(int[] seen, int[] shape, String what, RawSample s) {
    if (seen != null && !java.util.Arrays.equals(seen, shape)) {
      throw new IllegalArgumentException("sample " + s.key() + ": its " + what + " is " + java.util.Arrays.toString(shape)
          + ", the batch's others " + java.util.Arrays.toString(seen) + " (decode to one size to batch them)");
    }
    return shape;
  }

  private static int[] prepend(int n, int[] shape) {
    int[] s = new int[shape.length + 1];
    s[0] = n;
    System.arraycopy(shape, 0, s, 1, shape.length);
    return s;
  }

  private static ShmRing.Field ints(String name, int[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return new ShmRing.Field(name, "int32", new int[] {values.length}, b.flip());
  }

  /** {@code b} is in its slot and nothing else holds it (its report keeps figures): its pictures' arrays are reused. */
  static void recycle(RawBatch b) {
    for (RawSample s : b.samples()) {
      s.decoded().flatMap(Decoded::image).ifPresent(p -> PixelBuffers.give(p.rgb()));
    }
  }
}
