package dev.conveyor.tools.pack;

import dev.conveyor.tools.pack.PackInput.Member;
import dev.conveyor.tools.pack.PackInput.Sample;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Which samples go in which shard: in input order, a shard closed before a sample that would take
 * it past the size bound (a shard holds at least one sample). A pure function of the input's
 * listing, so a rerun over the same files plans the same shards — and can tell a finished one
 * by its {@link Shard#inputs} fingerprint (names, sizes and modification times of its files).
 */
public record PackPlan(List<Shard> shards) {
  /** Fingerprint version: a change to the writer's layout changes it, so a rerun repacks. */
  static final String FORMAT = "pack-v1";

  /** One planned shard. */
  public record Shard(String name, List<Sample> samples, String inputs) {}

  public PackPlan {
    shards = List.copyOf(shards);
  }

  public static PackPlan of(List<Sample> samples, long shardBytes) {
    List<Shard> shards = new ArrayList<>();
    List<Sample> current = new ArrayList<>();
    long bytes = 0;
    for (Sample s : samples) {
      long size = tarBytes(s);
      if (!current.isEmpty() && bytes + size > shardBytes) {
        shards.add(shard(shards.size(), current));
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(s);
      bytes += size;
    }
    if (!current.isEmpty()) {
      shards.add(shard(shards.size(), current));
    }
    return new PackPlan(shards);
  }

  public long samples() {
    return shards.stream().mapToLong(s -> s.samples().size()).sum();
  }

  /** A sample's bytes in a tar: per member a header, a PAX header for a name over 100 bytes, the data padded. */
  static long tarBytes(Sample s) {
    long n = 0;
    for (Member m : s.members()) {
      int name = s.memberName(m).getBytes(StandardCharsets.UTF_8).length;
      n += 512 + (name > 100 ? 1024 + (name + 511) / 512 * 512 : 0) + (m.size() + 511) / 512 * 512;
    }
    return n;
  }

  private static Shard shard(int i, List<Sample> samples) {
    MessageDigest sha = dev.conveyor.streams.store.ShardCheck.newSha256();
    sha.update(FORMAT.getBytes(StandardCharsets.UTF_8));
    for (Sample s : samples) {
      for (Member m : s.members()) {
        sha.update((s.memberName(m) + "\u0000" + m.size() + "\u0000" + m.modified() + "\n").getBytes(StandardCharsets.UTF_8));
      }
    }
    return new Shard(String.format(Locale.ROOT, "part-%06d.tar", i), List.copyOf(samples),
        HexFormat.of().formatHex(sha.digest()));
  }
}
