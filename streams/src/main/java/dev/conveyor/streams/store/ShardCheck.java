package dev.conveyor.streams.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import org.apache.pekko.util.ByteString;

/**
 * What a shard's bytes must be, as its manifest says: a size and a sha256 (hex), either
 * unknown ({@code -1}, {@code ""}); and whether it has a {@link ShardIndex} beside it.
 * {@link Digest} checks bytes against it as they stream.
 */
public record ShardCheck(long bytes, String sha256, boolean indexed) {
  public static final ShardCheck NONE = new ShardCheck(-1, "");

  /** A shard without an index. */
  public ShardCheck(long bytes, String sha256) {
    this(bytes, sha256, false);
  }

  /** A sha256 that is not 64 hex digits (e.g. "-") counts as unknown. */
  public ShardCheck {
    sha256 = sha256 == null ? "" : sha256.toLowerCase(Locale.ROOT);
    if (!sha256.matches("[0-9a-f]{64}")) {
      sha256 = "";
    }
  }

  /** A new SHA-256 digest (every Java runtime has one). */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  public boolean checksSomething() {
    return bytes >= 0 || !sha256.isEmpty();
  }

  /** A running count of a shard's bytes, and their sha256 when the check has one to compare with. */
  public static final class Digest {
    private final MessageDigest sha; // null: nothing to compare with, so not computed
    private long count;

    public Digest(ShardCheck check) {
      sha = check.sha256().isEmpty() ? null : newSha256();
    }

    public void update(ByteString b) {
      if (sha != null) {
        for (java.nio.ByteBuffer bb : b.getByteBuffers()) {
          sha.update(bb);
        }
      }
      count += b.size();
    }

    public long count() {
      return count;
    }

    /** Why the bytes seen do not match {@code check}, or null when they do (or there is nothing to check). */
    public String mismatch(ShardCheck check) {
      if (check.bytes() >= 0 && count != check.bytes()) {
        return "size " + count + " bytes, but the manifest says " + check.bytes();
      }
      if (sha != null) {
        String got = HexFormat.of().formatHex(sha.digest());
        if (!got.equals(check.sha256())) {
          return "sha256 " + got + ", but the manifest says " + check.sha256();
        }
      }
      return null;
    }
  }
}
