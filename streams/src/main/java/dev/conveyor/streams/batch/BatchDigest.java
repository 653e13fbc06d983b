package dev.conveyor.streams.batch;

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
 * its length as 8 big-endian bytes and its bytes (strings UTF-8 and NUL-terminated).
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
      for (Member m : s.members()) {
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

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
