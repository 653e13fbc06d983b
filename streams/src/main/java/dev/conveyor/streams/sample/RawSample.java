package dev.conveyor.streams.sample;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * A WebDataset sample as it was stored: the consecutive tar members that share a key, in
 * archive order, with their bytes undecoded.
 */
public record RawSample(String shard, String key, List<Member> members) implements ShardRecord {
  public RawSample {
    requireNonNull(shard, "shard is null");
    requireNonNull(key, "key is null");
    members = List.copyOf(members);
  }

  /** The total size of the members' bytes. */
  public long bytes() {
    long n = 0;
    for (Member m : members) {
      n += m.data().size();
    }
    return n;
  }

  /** The member with this extension, if the sample has one. */
  public Optional<Member> member(String ext) {
    for (Member m : members) {
      if (m.ext().equals(ext)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }
}
