package dev.conveyor.streams.sample;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * A WebDataset sample: the consecutive tar members that share a key, in archive order, with
 * their stored bytes, and — once the decoder stage has run — what they decoded to.
 */
public record RawSample(String shard, String key, List<Member> members, Optional<Decoded> decoded) implements ShardRecord {
  public RawSample {
    requireNonNull(shard, "shard is null");
    requireNonNull(key, "key is null");
    members = List.copyOf(members);
    requireNonNull(decoded, "decoded is null");
  }

  /** A sample as read, not decoded. */
  public RawSample(String shard, String key, List<Member> members) {
    this(shard, key, members, Optional.empty());
  }

  /** The same sample with its decoded content. */
  public RawSample withDecoded(Decoded d) {
    return new RawSample(shard, key, members, Optional.of(d));
  }

  /** The total size of the members' bytes. */
  public long bytes() {
    long n = 0;
    for (Member m : members) {
      n += m.data().size();
    }
    return n;
  }

  /** What a trainer receives of it: the tensor bytes when it is decoded, else the members' bytes. */
  public long deliveredBytes() {
    return decoded.map(Decoded::tensorBytes).orElseGet(this::bytes);
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
