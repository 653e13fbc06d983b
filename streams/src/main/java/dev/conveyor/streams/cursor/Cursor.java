package dev.conveyor.streams.cursor;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Where a job stands, as DESIGN.md specifies: the recipe's fingerprint, the epoch, and per rank
 * the batches delivered to the trainer in that epoch. Encoded as the text token
 * {@code cv1.<base64url payload>.<crc32c hex>}.
 *
 * <p>An epoch may have been run at several world sizes (elastic resume): {@code segments}
 * lists them in order, each with the world size and the batches its ranks delivered. The last
 * segment is the current one. A batch always covers a fixed range of plan positions, whether
 * its samples were delivered or skipped as bad, so the counts pin down exactly which raw
 * samples were consumed.
 */
public record Cursor(String fingerprint, int epoch, List<Segment> segments) {
  static final String VERSION = "cv1";
  private static final int MAX_TOKEN = 1 << 20;

  /** Batches delivered by each rank of a world of {@code batches.length} ranks. */
  public record Segment(long[] batches) {
    public Segment {
      if (batches.length < 1) {
        throw new IllegalArgumentException("a segment needs at least one rank");
      }
      for (long b : batches) {
        if (b < 0) {
          throw new IllegalArgumentException("negative batch count " + b);
        }
      }
      batches = batches.clone();
    }

    public int world() {
      return batches.length;
    }

    public long batches(int rank) {
      return batches[rank];
    }

    @Override
    public long[] batches() {
      return batches.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Segment s && Arrays.equals(s.batches, batches);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(batches);
    }

    @Override
    public String toString() {
      return "Segment" + Arrays.toString(batches);
    }
  }

  public Cursor {
    requireNonNull(fingerprint, "fingerprint is null");
    if (epoch < 0 || segments.isEmpty()) {
      throw new IllegalArgumentException("a cursor needs an epoch ≥ 0 and at least one segment");
    }
    segments = List.copyOf(segments);
  }

  /** Nothing delivered yet, at {@code world} ranks. */
  public static Cursor start(String fingerprint, int world) {
    return new Cursor(fingerprint, 0, List.of(new Segment(new long[world])));
  }

  public Segment current() {
    return segments.get(segments.size() - 1);
  }

  public int world() {
    return current().world();
  }

  /** The same cursor with rank {@code rank}'s count in the current segment set to {@code batches}. */
  public Cursor withDelivered(int rank, long batches) {
    long[] b = current().batches();
    b[rank] = batches;
    List<Segment> s = new ArrayList<>(segments.subList(0, segments.size() - 1));
    s.add(new Segment(b));
    return new Cursor(fingerprint, epoch, s);
  }

  /** The start of {@code epoch} at {@code world} ranks. */
  public Cursor atEpoch(int epoch, int world) {
    return new Cursor(fingerprint, epoch, List.of(new Segment(new long[world])));
  }

  /** The same position, continued at {@code world} ranks (a new segment unless the world is unchanged). */
  public Cursor resumedAt(int world) {
    if (world == world()) {
      return this;
    }
    List<Segment> s = new ArrayList<>(segments);
    s.add(new Segment(new long[world]));
    return new Cursor(fingerprint, epoch, s);
  }

  public String encode() {
    StringBuilder p = new StringBuilder("fp=").append(fingerprint).append(";epoch=").append(epoch).append(";seg=");
    for (int i = 0; i < segments.size(); i++) {
      long[] b = segments.get(i).batches;
      p.append(i == 0 ? "" : "|");
      for (int r = 0; r < b.length; r++) {
        p.append(r == 0 ? "" : ",").append(b[r]);
      }
    }
    String body = Base64.getUrlEncoder().withoutPadding().encodeToString(p.toString().getBytes(StandardCharsets.UTF_8));
    return VERSION + "." + body + "." + crc(VERSION + "." + body);
  }

  /**
   * Parses a token, checking its version and checksum; a failure is a {@link CursorException}
   * whose message says what is wrong.
   */
  public static Cursor decode(String token) {
    if (token == null) {
      throw new CursorException("no cursor token");
    }
    String t = token.trim();
    if (t.length() > MAX_TOKEN) {
      throw new CursorException("not a cursor token: " + t.length() + " characters is far too long");
    }
    String[] parts = t.split("\\.", -1);
    if (parts.length != 3 || !parts[0].matches("cv\\d+")) {
      throw new CursorException("not a cursor token (expected cvN.payload.checksum): \"" + abbreviate(t) + "\"");
    }
    int version;
    try {
      version = Integer.parseInt(parts[0].substring(2));
    } catch (NumberFormatException e) {
      throw new CursorException("not a cursor token: version " + abbreviate(parts[0]) + " is not a number");
    }
    if (version > 1) {
      throw new CursorException("cursor version " + parts[0] + " is newer than this build, which reads " + VERSION
          + ": resume with the Conveyor version that wrote it, or a later one");
    }
    if (version < 1) {
      throw new CursorException("cursor version " + parts[0] + " (provisional, from an older build) is no longer"
          + " accepted: this build reads " + VERSION + "; restart the epoch or resume with the build that wrote it");
    }
    if (!crc(parts[0] + "." + parts[1]).equals(parts[2])) {
      throw new CursorException("cursor checksum mismatch: the token was altered or cut short");
    }
    try {
      return parsePayload(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new CursorException("cursor payload is malformed: " + String.valueOf(e.getMessage()).replaceAll("\\p{Cntrl}", "?"));
    }
  }

  private static Cursor parsePayload(String payload) {
    String fp = null;
    int epoch = -1;
    List<Segment> segments = new ArrayList<>();
    for (String field : payload.split(";")) {
      int eq = field.indexOf('=');
      String k = field.substring(0, eq);
      String v = field.substring(eq + 1);
      switch (k) {
        case "fp" -> fp = v;
        case "epoch" -> epoch = Integer.parseInt(v);
        case "seg" -> {
          for (String s : v.split("\\|")) {
            segments.add(new Segment(Arrays.stream(s.split(",")).mapToLong(Long::parseLong).toArray()));
          }
        }
        default -> { } // fields added by later minor revisions are ignored
      }
    }
    return new Cursor(fp, epoch, segments);
  }

  private static String crc(String s) {
    CRC32C c = new CRC32C();
    c.update(s.getBytes(StandardCharsets.US_ASCII));
    return HexFormat.of().toHexDigits((int) c.getValue());
  }

  /** At most 40 characters of {@code s}, control characters shown as '?': what a message may repeat of a token. */
  private static String abbreviate(String s) {
    String shown = s.length() <= 40 ? s : s.substring(0, 40) + "…";
    return shown.replaceAll("\\p{Cntrl}", "?");
  }
}
