package dev.conveyor.streams.plan;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Everything that decides which samples a run delivers, and in which order and batches: the
 * shards with their sample counts, the seed, the batch size, the drop-last rule, the shuffle
 * settings, the decode settings, whether batches are full ({@link #fullBatches}) and — for a
 * mix — the sources, their weights and the batching ({@link Mix}). World size is not part of it: a cursor from one world
 * size resumes at another.
 */
public record Recipe(ShardSet shards, long seed, int batchSize, boolean dropLast, Shuffle shuffle, String decode,
                     Optional<Mix> mix, boolean fullBatches, Optional<BatchShape> shape) {

  /** A recipe over one set of shards (no mix). */
  public Recipe(ShardSet shards, long seed, int batchSize, boolean dropLast, Shuffle shuffle, String decode) {
    this(shards, seed, batchSize, dropLast, shuffle, decode, Optional.empty());
  }

  /** A recipe whose batches cover fixed ranges of plan positions (not {@link #fullBatches}). */
  public Recipe(ShardSet shards, long seed, int batchSize, boolean dropLast, Shuffle shuffle, String decode,
                Optional<Mix> mix) {
    this(shards, seed, batchSize, dropLast, shuffle, decode, mix, false, Optional.empty());
  }

  /**
   * The same recipe with full batches or not: with them a rank's batch is its next
   * {@code batchSize} kept samples, however many plan positions that takes ({@link FullPlan}).
   */
  public Recipe withFullBatches(boolean full) {
    return new Recipe(shards, seed, batchSize, dropLast, shuffle, decode, mix, full, shape);
  }

  /** The same recipe over {@code other} shards (those of its samples a catalog's query chose, say). */
  public Recipe withShards(ShardSet other) {
    return new Recipe(other, seed, batchSize, dropLast, shuffle, decode, mix, fullBatches, shape);
  }

  /** The same recipe packing tokens into rows ({@link Packing}); packing makes batches full. */
  public Recipe withPacking(Optional<Packing> p) {
    return new Recipe(shards, seed, batchSize, dropLast, shuffle, decode, mix, fullBatches || p.isPresent(),
        p.<BatchShape>map(x -> x).or(() -> shape.filter(s -> !(s instanceof Packing))));
  }

  /** The same recipe batching samples by length ({@link Bucketing}); bucketing makes batches full. */
  public Recipe withBucketing(Optional<Bucketing> b) {
    return new Recipe(shards, seed, batchSize, dropLast, shuffle, decode, mix, fullBatches || b.isPresent(),
        b.<BatchShape>map(x -> x).or(() -> shape.filter(s -> !(s instanceof Bucketing))));
  }

  /** Its token packing, if it packs. */
  public Optional<Packing> packing() {
    return shape.filter(Packing.class::isInstance).map(Packing.class::cast);
  }

  /** Its length buckets, if it has them. */
  public Optional<Bucketing> bucketing() {
    return shape.filter(Bucketing.class::isInstance).map(Bucketing.class::cast);
  }


  /**
   * @param enabled       shuffle shard order per epoch and samples within windows; off gives recipe order
   * @param windowShards  consecutive shard pieces a rank holds open and interleaves at random
   * @param bufferSamples samples in the seeded shuffle buffer applied after interleaving (0: none)
   */
  public record Shuffle(boolean enabled, int windowShards, int bufferSamples) {
    public Shuffle {
      if (windowShards < 1 || bufferSamples < 0) {
        throw new IllegalArgumentException("window-shards must be at least 1 and buffer at least 0");
      }
    }
  }

  public Recipe {
    requireNonNull(shards, "shards is null");
    requireNonNull(shuffle, "shuffle is null");
    requireNonNull(decode, "decode is null");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    requireNonNull(mix, "mix is null");
    mix.ifPresent(m -> {
      int next = 0;
      for (Mix.Source s : m.sources()) {
        if (s.firstShard() != next) {
          throw new IllegalArgumentException("source " + s.name() + " starts at shard " + s.firstShard() + ", not " + next
              + ": a mix's sources take the recipe's shards in turn");
        }
        next += s.shards();
      }
      if (next != shards.size()) {
        throw new IllegalArgumentException("a mix's sources hold " + next + " of the recipe's " + shards.size() + " shards");
      }
    });
    requireNonNull(shape, "shape is null");
    if (shape.isPresent() && !fullBatches) {
      throw new IllegalArgumentException((shape.get() instanceof Packing ? "token packing" : "length bucketing")
          + " makes batches full: set full batches too");
    }
    if (shape.isPresent() && shape.get() instanceof Bucketing && mix.isPresent()) {
      throw new IllegalArgumentException("length buckets are not yet supported for a mix of sources");
    }
  }

  /** Whether this recipe mixes sources (each a range of its shards). */
  public boolean mixed() {
    return mix.isPresent();
  }

  /**
   * The recipe's id: which samples it reads, in which order — a hash of what chose them (a
   * catalog's filter, the corpus version, the catalog), the shards with their sample counts, and
   * the seed — whatever the batch size, decoding or stages. Two runs with the same id read the
   * same samples in the same order; {@code conveyor recipe} prints it before a run, the run's
   * summary after.
   */
  public String id() {
    MessageDigest sha = sha256();
    sha.update(shards.selection().getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < shards.size(); i++) {
      sha.update((shards.name(i) + "=" + shards.held(i) + ";").getBytes(StandardCharsets.UTF_8));
    }
    sha.update(("seed=" + seed + mix.map(m -> ";mix=" + m.describe()).orElse("")).getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(sha.digest(), 0, 8);
  }

  /** A short hash of everything in the recipe; cursors carry it, and resume refuses a mismatch. */
  public String fingerprint() {
    MessageDigest sha = sha256();
    ByteBuffer n = ByteBuffer.allocate(8);
    for (int i = 0; i < shards.size(); i++) {
      sha.update(shards.name(i).getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      n.clear();
      n.putInt(shards.count(i)).flip();
      sha.update(n);
      int[] chosen = shards.chosen(i);
      if (chosen != null) { // which samples a catalog's query chose: another choice is another plan
        for (int c : chosen) {
          n.clear();
          n.putInt(c).flip();
          sha.update(n);
        }
      }
    }
    sha.update((shards.selection() + "seed=" + seed + ";batch=" + batchSize + ";drop-last=" + dropLast + ";shuffle=" + shuffle.enabled()
        + "," + shuffle.windowShards() + "," + shuffle.bufferSamples() + ";decode=" + decode
        + mix.map(m -> ";mix=" + m.describe()).orElse("") + (fullBatches ? ";full-batches" : "")
        + shape.map(p -> (p instanceof Packing ? ";pack=" : ";bucket=") + p.describe()).orElse(""))
        .getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(sha.digest(), 0, 8);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
