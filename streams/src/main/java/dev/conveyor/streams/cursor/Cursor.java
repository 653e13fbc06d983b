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
 * {@code cv1.<base64url payload>.<crc32c hex>} ({@code cv2} when it records positions).
 *
 * <p>An epoch may have been run at several world sizes (elastic resume): {@code segments}
 * lists them in order, each with the world size and the batches its ranks delivered. The last
 * segment is the current one. A batch covers a fixed range of plan positions, whether its
 * samples were delivered or skipped as bad, so the counts pin down exactly which raw samples
 * were consumed — except in a recipe of full batches, whose batch takes as many positions as its
 * kept samples need: there each segment also records every rank's plan positions consumed.
 */
public record Cursor(String fingerprint, int epoch, List<Segment> segments) {
  static final String VERSION = "cv1";
  static final String VERSION_POSITIONS = "cv2";
  private static final int MAX_TOKEN = 1 << 20;

  /**
   * Batches delivered by each rank of a world of {@code batches.length} ranks and, for a recipe
   * of full batches, the plan positions each rank's batches took from its part ({@code
   * positions} empty otherwise: a batch then covers a fixed range of positions) and, when a
   * flatMap made a sample into several, how many outputs of the sample at that position were
   * delivered too ({@code offsets}; empty when none was).
   */
  public record Segment(long[] batches, long[] positions, long[] offsets) {
    public Segment {
      if (batches.length < 1) {
        throw new IllegalArgumentException("a segment needs at least one rank");
      }
      if (positions.length != 0 && positions.length != batches.length
          || offsets.length != 0 && offsets.length != positions.length) {
        throw new IllegalArgumentException("a segment of " + batches.length + " ranks has " + positions.length
            + " positions and " + offsets.length + " offsets");
      }
      for (long[] a : new long[][] {batches, positions, offsets}) {
        for (long v : a) {
          if (v < 0) {
            throw new IllegalArgumentException("negative count " + v + " in a cursor segment");
          }
        }
      }
      batches = batches.clone();
      positions = positions.clone();
      offsets = Arrays.stream(offsets).allMatch(o -> o == 0) ? new long[0] : offsets.clone();
    }

    /** Batch counts and positions, no sample part-delivered. */
    public Segment(long[] batches, long[] positions) {
      this(batches, positions, new long[0]);
    }

    /** Batch counts without positions. */
    public Segment(long[] batches) {
      this(batches, new long[0]);
    }

    public int world() {
      return batches.length;
    }

    public long batches(int rank) {
      return batches[rank];
    }

    /** Whether the segment records positions (a recipe of full batches). */
    public boolean hasPositions() {
      return positions.length > 0;
    }

    /** The plan positions {@code rank} consumed of its part (0 when none are recorded). */
    public long position(int rank) {
      return positions.length == 0 ? 0 : positions[rank];
    }

    /** The outputs of the sample at {@link #position} that {@code rank} delivered (a flatMap's; 0 for none). */
    public long offset(int rank) {
      return offsets.length == 0 ? 0 : offsets[rank];
    }

    @Override
    public long[] batches() {
      return batches.clone();
    }

    @Override
    public long[] positions() {
      return positions.clone();
    }

    @Override
    public long[] offsets() {
      return offsets.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Segment s && Arrays.equals(s.batches, batches) && Arrays.equals(s.positions, positions)
          && Arrays.equals(s.offsets, offsets);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * Arrays.hashCode(batches) + Arrays.hashCode(positions)) + Arrays.hashCode(offsets);
    }

    @Override
    public String toString() {
      return "Segment" + Arrays.toString(batches) + (positions.length == 0 ? "" : "@" + Arrays.toString(positions))
          + (offsets.length == 0 ? "" : "+" + Arrays.toString(offsets));
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
    return withCurrent(new Segment(b, current().positions(), current().offsets()));
  }

  /**
   * The same cursor with rank {@code rank}'s count in the current segment set to {@code batches}
   * and the plan positions its batches took to {@code position} (a recipe of full batches).
   */
  public Cursor withDelivered(int rank, long batches, long position) {
    return withDelivered(rank, batches, position, 0);
  }

  /**
   * The same, and {@code offset} outputs of the sample at {@code position} delivered too (a
   * flatMap made it into several, and a batch ended between two of them).
   */
  public Cursor withDelivered(int rank, long batches, long position, long offset) {
    long[] b = current().batches();
    b[rank] = batches;
    long[] p = current().hasPositions() ? current().positions() : new long[b.length];
    p[rank] = position;
    long[] o = current().offsets.length > 0 ? current().offsets() : new long[b.length];
    o[rank] = offset;
    return withCurrent(new Segment(b, p, o));
  }

  private Cursor withCurrent(Segment current) {
    List<Segment> s = new ArrayList<>(segments.subList(0, segments.size() - 1));
    s.add(current);
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

  /**
   * The token: {@code cv1} when no segment records positions, {@code cv2} when one does (a
   * recipe of full batches), so a build that cannot read positions refuses the token instead of
   * misreading it.
   */
  public String encode() {
    StringBuilder p = new StringBuilder("fp=").append(fingerprint).append(";epoch=").append(epoch).append(";seg=");
    boolean positions = segments.stream().anyMatch(Segment::hasPositions);
    appendCounts(p, Segment::batches);
    if (positions) {
      p.append(";pos=");
      appendCounts(p, s -> s.hasPositions() ? s.positions : new long[s.world()]);
    }
    if (segments.stream().anyMatch(s -> s.offsets.length > 0)) {
      p.append(";sub=");
      appendCounts(p, s -> s.offsets.length > 0 ? s.offsets : new long[s.world()]);
    }
    String version = positions ? VERSION_POSITIONS : VERSION;
    String body = Base64.getUrlEncoder().withoutPadding().encodeToString(p.toString().getBytes(StandardCharsets.UTF_8));
    return version + "." + body + "." + crc(version + "." + body);
  }

  private void appendCounts(StringBuilder p, java.util.function.Function<Segment, long[]> of) {
    for (int i = 0; i < segments.size(); i++) {
      long[] b = of.apply(segments.get(i));
      p.append(i == 0 ? "" : "|");
      for (int r = 0; r < b.length; r++) {
        p.append(r == 0 ? "" : ",").append(b[r]);
      }
    }
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
    if (version > 2) {
      throw new CursorException("cursor version " + parts[0] + " is newer than this build, which reads " + VERSION
          + " and " + VERSION_POSITIONS + ": resume with the Conveyor version that wrote it, or a later one");
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
    List<long[]> counts = new ArrayList<>();
    List<long[]> positions = new ArrayList<>();
    List<long[]> offsets = new ArrayList<>();
    for (String field : payload.split(";")) {
      int eq = field.indexOf('=');
      String k = field.substring(0, eq);
      String v = field.substring(eq + 1);
      switch (k) {
        case "fp" -> fp = v;
        case "epoch" -> epoch = Integer.parseInt(v);
        case "seg" -> counts.addAll(lists(v));
        case "pos" -> positions.addAll(lists(v));
        case "sub" -> offsets.addAll(lists(v));
        default -> { } // fields added by later minor revisions are ignored
      }
    }
    if (!positions.isEmpty() && positions.size() != counts.size()
        || !offsets.isEmpty() && offsets.size() != positions.size()) {
      throw new IllegalArgumentException(counts.size() + " segments with " + positions.size() + " lists of positions and "
          + offsets.size() + " of offsets");
    }
    List<Segment> segments = new ArrayList<>();
    for (int i = 0; i < counts.size(); i++) {
      segments.add(new Segment(counts.get(i), positions.isEmpty() ? new long[0] : positions.get(i),
          offsets.isEmpty() ? new long[0] : offsets.get(i)));
    }
    return new Cursor(fp, epoch, segments);
  }

  private static List<long[]> lists(String v) {
    List<long[]> out = new ArrayList<>();
    for (String s : v.split("\\|")) {
      out.add(Arrays.stream(s.split(",")).mapToLong(Long::parseLong).toArray());
    }
    return out;
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
