package dev.conveyor.streams.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Where each sample of one shard lies: sample {@code i} is the bytes
 * {@code [offsets[i], offsets[i + 1])} — its members' header blocks, data and padding, up to
 * the next sample's first header (the last sample's range ends where the end-of-archive
 * blocks begin) — and their CRC32C is {@code crc32c[i]}. It belongs to the shard whose size
 * and sha256 it names. With it a reader fetches only the samples its piece of the shard needs
 * ({@link #range}) and checks them sample by sample.
 *
 * <p>Stored as a sidecar JSON file beside the shard, {@code NAME.idx.json} ({@link #sidecar}):
 * {@code {"version":1,"shard":NAME,"bytes":B,"sha256":HEX,"samples":N,"offsets":[N+1 numbers],"crc32c":[N numbers],
 * "check":C}} ({@link #check}; optional when read).
 */
public record ShardIndex(String shard, long bytes, String sha256, long[] offsets, int[] crc32c) {
  public static final String SUFFIX = ".idx.json";

  public ShardIndex {
    requireNonNull(shard, "shard is null");
    requireNonNull(sha256, "sha256 is null");
    if (offsets.length != crc32c.length + 1) {
      throw new IllegalArgumentException("an index of " + crc32c.length + " samples needs " + (crc32c.length + 1)
          + " offsets, has " + offsets.length);
    }
    for (int i = 0; i < offsets.length; i++) {
      if (offsets[i] < 0 || offsets[i] > bytes || i > 0 && offsets[i] < offsets[i - 1]) {
        throw new IllegalArgumentException("offsets must rise from 0 within the shard's " + bytes + " bytes; offsets["
            + i + "] = " + offsets[i]);
      }
    }
  }

  public int samples() {
    return crc32c.length;
  }

  /** The sidecar of {@code shard}: the same URI with {@value #SUFFIX} appended. */
  public static URI sidecar(URI shard) {
    return URI.create(shard + SUFFIX);
  }

  /**
   * The ranges that hold the plan's samples {@code [from, to)} of this shard when the plan's
   * sample {@code i} is the shard's sample {@code chosen[i]} (null: sample {@code i}): one range
   * per run of consecutive samples, in order.
   */
  public java.util.List<Range> ranges(int[] chosen, int from, int to) {
    if (chosen == null) {
      return java.util.List.of(range(from, to));
    }
    java.util.List<Range> runs = new java.util.ArrayList<>();
    int i = from;
    while (i < to) {
      int j = i + 1;
      while (j < to && chosen[j] == chosen[j - 1] + 1) {
        j++;
      }
      runs.add(range(chosen[i], chosen[j - 1] + 1));
      i = j;
    }
    return runs;
  }

  /** The bytes {@code [first, end)} that hold samples {@code [from, to)}. */
  public Range range(int from, int to) {
    if (from < 0 || to > samples() || from > to) {
      throw new IllegalArgumentException("samples [" + from + ", " + to + ") outside an index of " + samples());
    }
    return new Range(from, Arrays.copyOfRange(offsets, from, to + 1), Arrays.copyOfRange(crc32c, from, to));
  }

  /**
   * Why this index cannot be used for a shard the manifest describes as {@code check} with at
   * least {@code samples} samples planned, or null when it can.
   */
  public String mismatch(ShardCheck check, int samples) {
    if (check.bytes() >= 0 && check.bytes() != bytes) {
      return "it indexes " + bytes + " bytes but the manifest says " + check.bytes();
    }
    if (!check.sha256().isEmpty() && !check.sha256().equals(sha256)) {
      return "it indexes sha256 " + sha256 + " but the manifest says " + check.sha256();
    }
    if (samples > samples()) {
      return "it lists " + samples() + " samples but the plan counts " + samples;
    }
    return null;
  }

  /** Samples {@code [from, from + crc32c.length)}: their boundaries (one more than samples) and checksums. */
  public record Range(int from, long[] bounds, int[] crc32c) {
    public long offset() {
      return bounds[0];
    }

    public long length() {
      return bounds[bounds.length - 1] - bounds[0];
    }

    /** The samples of this range from sample {@code sample} of the shard on. */
    public Range rest(int sample) {
      int i = sample - from;
      if (i < 0 || i >= crc32c.length) {
        throw new IllegalArgumentException("sample " + sample + " outside the range of samples [" + from + ", "
            + (from + crc32c.length) + ")");
      }
      return new Range(sample, Arrays.copyOfRange(bounds, i, bounds.length), Arrays.copyOfRange(crc32c, i, crc32c.length));
    }
  }

  public String toJson() {
    ObjectNode m = Json.object().put("version", 1).put("shard", shard).put("bytes", bytes).put("sha256", sha256)
        .put("samples", samples());
    ArrayNode o = m.putArray("offsets");
    for (long x : offsets) {
      o.add(x);
    }
    ArrayNode c = m.putArray("crc32c");
    for (int x : crc32c) {
      c.add(Integer.toUnsignedLong(x));
    }
    m.put("check", Integer.toUnsignedLong(check()));
    return Json.compact(m) + "\n";
  }

  /**
   * A CRC32C over what this index says (shard, size, sha256, offsets, checksums), stored in its
   * JSON as {@code "check"}: an index changed in transfer (a digit of an offset, say) is caught
   * when it is read instead of being taken for a changed shard.
   */
  int check() {
    CRC32C crc = new CRC32C();
    StringBuilder b = new StringBuilder().append(shard).append('\n').append(bytes).append('\n').append(sha256);
    for (long x : offsets) {
      b.append(',').append(x);
    }
    for (int x : crc32c) {
      b.append(',').append(x);
    }
    crc.update(b.toString().getBytes(StandardCharsets.UTF_8));
    return (int) crc.getValue();
  }

  /** Parses a sidecar; the message of a failure says what is wrong. */
  public static ShardIndex parse(String json) {
    JsonNode root;
    try {
      root = Json.parse(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a valid shard index: " + e.getMessage(), e);
    }
    if (root.path("version").asInt() != 1) {
      throw new IllegalArgumentException("not a valid shard index: \"version\" must be 1");
    }
    JsonNode o = root.path("offsets");
    JsonNode c = root.path("crc32c");
    if (!o.isArray() || !c.isArray() || !root.path("shard").isTextual() || !root.path("bytes").canConvertToLong()) {
      throw new IllegalArgumentException("not a valid shard index: it needs \"shard\", \"bytes\", \"offsets\" and \"crc32c\"");
    }
    long[] offsets = new long[o.size()];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = o.get(i).asLong(-1);
    }
    int[] crc = new int[c.size()];
    for (int i = 0; i < crc.length; i++) {
      crc[i] = (int) c.get(i).asLong();
    }
    ShardIndex index;
    try {
      index = new ShardIndex(root.path("shard").textValue(), root.path("bytes").asLong(), root.path("sha256").asText(""),
          offsets, crc);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a valid shard index: " + e.getMessage(), e);
    }
    JsonNode check = root.path("check"); // indexes written before it was added have none
    if (!check.isMissingNode() && (int) check.asLong() != index.check()) {
      throw new IllegalArgumentException("not a valid shard index: its \"check\" " + check.asText() + " does not match"
          + " its content (" + Integer.toUnsignedString(index.check()) + "): changed after it was written");
    }
    return index;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShardIndex x && shard.equals(x.shard) && bytes == x.bytes && sha256.equals(x.sha256)
        && Arrays.equals(offsets, x.offsets) && Arrays.equals(crc32c, x.crc32c);
  }

  @Override
  public int hashCode() {
    return shard.hashCode() * 31 + Arrays.hashCode(offsets);
  }

  @Override
  public String toString() {
    return "ShardIndex[" + shard + ", " + samples() + " samples, " + bytes + " bytes]";
  }
}
