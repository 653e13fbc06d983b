package dev.conveyor.streams.batch;

import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 fingerprints of a batch, as written to a job's digest file. The batch bytes are
 * framed canonically, so two batches digest alike exactly when they hold the same samples,
 * members and bytes in the same order: per sample its key, then per member its extension,
 * its length as 8 big-endian bytes and its bytes (strings UTF-8 and NUL-terminated). A decoded
 * sample contributes what it decoded to instead: its picture and clip tensors (with their
 * shapes and frame indices), its text members and its token arrays (by name: the name, their
 * count as 8 bytes and each as 4, big-endian); members of other types stay raw.
 */
public record BatchDigest(String bytesSha256, String keysSha256) {

  public static BatchDigest of(RawBatch batch) {
    MessageDigest bytes = sha256();
    MessageDigest keys = sha256();
    ByteBuffer len = ByteBuffer.allocate(8);
    boolean first = true;
    for (RawSample s : batch.samples()) {
      byte[] key = s.key().getBytes(StandardCharsets.UTF_8);
      bytes.update(key);
      bytes.update((byte) 0);
      if (s.decoded().isPresent()) {
        decoded(bytes, s, len);
      } else for (Member m : s.members()) {
        bytes.update(m.ext().getBytes(StandardCharsets.UTF_8));
        bytes.update((byte) 0);
        len.clear();
        len.putLong(m.data().size()).flip();
        bytes.update(len);
        for (ByteBuffer bb : m.data().getByteBuffers()) {
          bytes.update(bb);
        }
      }
      if (!first) {
        keys.update((byte) '\n');
      }
      keys.update(key);
      first = false;
    }
    HexFormat hex = HexFormat.of();
    return new BatchDigest(hex.formatHex(bytes.digest()), hex.formatHex(keys.digest()));
  }

  private static void decoded(MessageDigest md, RawSample s, ByteBuffer len) {
    Decoded d = s.decoded().orElseThrow();
    d.image().ifPresent(p -> {
      frame(md, len, "image", 1, p.height(), p.width());
      md.update(p.rgb());
    });
    d.video().ifPresent(c -> {
      frame(md, len, "video", c.frames(), c.height(), c.width());
      for (int i : c.frameIndices()) {
        len.clear();
        len.putLong(i).flip();
        md.update(len);
      }
      md.update(c.rgb());
    });
    for (Member m : s.members()) {
      String text = d.text().get(m.ext());
      if (text != null) {
        md.update(m.ext().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(text.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
    }
    for (String name : new java.util.TreeSet<>(d.tokens().keySet())) {
      int[] t = d.tokens().get(name);
      md.update(name.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      ByteBuffer b = ByteBuffer.allocate(8 + 4 * t.length);
      b.putLong(t.length);
      for (int v : t) {
        b.putInt(v);
      }
      md.update(b.flip());
    }
  }

  private static void frame(MessageDigest md, ByteBuffer len, String kind, long a, long b, long c) {
    md.update(kind.getBytes(StandardCharsets.UTF_8));
    for (long v : new long[] {a, b, c}) {
      len.clear();
      len.putLong(v).flip();
      md.update(len);
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
