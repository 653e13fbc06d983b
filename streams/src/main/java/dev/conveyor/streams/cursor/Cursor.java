package dev.conveyor.streams.cursor;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Where a job stands: per rank, how many batches of {@code epoch} were delivered, bound to the
 * recipe by its fingerprint. Encoded as the text token {@code cv0.<base64url payload>.<crc32c>}.
 *
 * <p>Version 0 is provisional: it is exact for the fixed shard assignment of this version, and
 * is superseded by the planned cursor of DESIGN.md, which will refuse {@code cv0} tokens by name.
 */
public record Cursor(String fingerprint, int epoch, int worldSize, long[] batchesDelivered) {
  static final String VERSION = "cv0";

  public Cursor {
    if (batchesDelivered.length != worldSize) {
      throw new IllegalArgumentException("one count per rank: " + batchesDelivered.length + " for world " + worldSize);
    }
    batchesDelivered = batchesDelivered.clone();
  }

  /** The cursor before anything was delivered. */
  public static Cursor start(String fingerprint, int worldSize) {
    return new Cursor(fingerprint, 0, worldSize, new long[worldSize]);
  }

  @Override
  public long[] batchesDelivered() {
    return batchesDelivered.clone();
  }

  public long batchesDelivered(int rank) {
    return batchesDelivered[rank];
  }

  public String encode() {
    StringBuilder p = new StringBuilder();
    p.append("fp=").append(fingerprint).append(";epoch=").append(epoch).append(";world=").append(worldSize).append(";batches=");
    for (int r = 0; r < worldSize; r++) {
      p.append(r == 0 ? "" : ",").append(batchesDelivered[r]);
    }
    String body = Base64.getUrlEncoder().withoutPadding().encodeToString(p.toString().getBytes(StandardCharsets.UTF_8));
    return VERSION + "." + body + "." + crc(VERSION + "." + body);
  }

  /** Parses a token, checking version and checksum; the message of a failure says what is wrong. */
  public static Cursor decode(String token) {
    String[] parts = token.trim().split("\\.");
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a cursor token (expected version.payload.checksum): \"" + abbreviate(token) + "\"");
    }
    if (!VERSION.equals(parts[0])) {
      throw new IllegalArgumentException("cursor version " + parts[0] + " is not supported by this build (it reads " + VERSION + ")");
    }
    if (!crc(parts[0] + "." + parts[1]).equals(parts[2])) {
      throw new IllegalArgumentException("cursor checksum mismatch: the token was altered or cut short");
    }
    String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    String fp = null;
    int epoch = -1;
    int world = -1;
    long[] batches = null;
    for (String field : payload.split(";")) {
      int eq = field.indexOf('=');
      String k = field.substring(0, eq);
      String v = field.substring(eq + 1);
      switch (k) {
        case "fp" -> fp = v;
        case "epoch" -> epoch = Integer.parseInt(v);
        case "world" -> world = Integer.parseInt(v);
        case "batches" -> batches = Arrays.stream(v.split(",")).mapToLong(Long::parseLong).toArray();
        default -> { } // fields of later minor revisions are ignored
      }
    }
    if (fp == null || epoch < 0 || world < 1 || batches == null) {
      throw new IllegalArgumentException("cursor payload is incomplete");
    }
    return new Cursor(fp, epoch, world, batches);
  }

  private static String crc(String s) {
    CRC32C c = new CRC32C();
    c.update(s.getBytes(StandardCharsets.US_ASCII));
    return HexFormat.of().toHexDigits((int) c.getValue());
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cursor c && c.fingerprint.equals(fingerprint) && c.epoch == epoch
        && c.worldSize == worldSize && Arrays.equals(c.batchesDelivered, batchesDelivered);
  }

  @Override
  public int hashCode() {
    return fingerprint.hashCode() * 31 + Arrays.hashCode(batchesDelivered) + epoch;
  }

  @Override
  public String toString() {
    return "Cursor[epoch=" + epoch + ", world=" + worldSize + ", batches=" + Arrays.toString(batchesDelivered) + "]";
  }
}
