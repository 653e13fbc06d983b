package dev.conveyor.workers.sink;

import dev.conveyor.config.SinkSettings;
import dev.conveyor.streams.manifest.Manifest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * How a sink names what it writes: every shard by the recipe that made it and its place in the
 * recipe — {@code part-RECIPE-eEEE-rRRRRR-BBBBBBBBB.tar}, the 12-hex-digit recipe id (of the
 * recipe's fingerprint, the world size and the shard size), the epoch, the rank and the rank's
 * first batch in it — so that the same recipe names the same shard the same way on every run,
 * and two recipes' shards never share a name. The job's cursors go under {@code _conveyor/RECIPE/}.
 */
public final class SinkNames {
  private SinkNames() {}

  /** The recipe id of a sink job: what its shards' names and its cursors' folder carry. */
  public static String recipeId(String fingerprint, int world, SinkSettings sink) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] d = sha.digest((fingerprint + "|world=" + world + "|shard-size=" + sink.shardSize())
          .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** The name of the shard of {@code rank} in {@code epoch} that starts at its batch {@code firstBatch}. */
  public static String shard(String recipeId, int epoch, int rank, long firstBatch) {
    return String.format("part-%s-e%03d-r%05d-%09d.tar", recipeId, epoch, rank, firstBatch);
  }

  /** Whether {@code name} is a shard of the recipe {@code recipeId}. */
  public static boolean isShard(String recipeId, String name) {
    return Pattern.matches("part-" + recipeId + "-e\\d{3,}-r\\d{5,}-\\d{9,}\\.tar", name);
  }

  /** Where the job's cursors go when {@code checkpoint-dir} is not set. */
  public static String checkpoints(SinkSettings sink, String recipeId) {
    return sink.to() + "_conveyor/" + recipeId + "/";
  }

  /** The folder's {@code name}. */
  public static URI child(SinkSettings sink, String name) {
    return Manifest.child(URI.create(sink.to()), name);
  }
}
