package dev.conveyor.streams.store.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.Recipe;
import dev.conveyor.streams.plan.ShardSet;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.store.ForwardingShardStore;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.testing.StreamTestKit;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The node tier over real files: shared by content, checked on every read, within budgets and quotas. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeCacheTest {
  static final int SHARDS = 12;
  static final int SHARD_BYTES = 64 * 1024;
  /** How long an owner has to answer before the next is asked. */
  static final long PEER_MILLIS = 1_000;

  @TempDir
  static Path dir;
  final StreamTestKit kit = new StreamTestKit();
  final List<URI> uris = new ArrayList<>();
  final List<URI> others = new ArrayList<>(); // other bytes, for another tenant
  final Map<String, ShardCheck> checks = new HashMap<>();

  /** A store that counts whole-object reads per URI, as S3 would count GETs. */
  static final class Counting extends ForwardingShardStore {
    final Map<URI, AtomicInteger> gets = new ConcurrentHashMap<>();

    Counting() {
      super(new FileShardStore());
    }

    @Override
    public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
      gets.computeIfAbsent(shard, u -> new AtomicInteger()).incrementAndGet();
      return inner.read(shard, offset, length);
    }

    @Override
    public Source<ByteString, NotUsed> read(URI shard) {
      return read(shard, 0, Long.MAX_VALUE);
    }

    @Override
    public void close() {
      inner.close();
    }

    int total() {
      return gets.values().stream().mapToInt(AtomicInteger::get).sum();
    }
  }

  @BeforeAll
  void shards() throws IOException {
    SplittableRandom random = new SplittableRandom(15);
    Path data = Files.createDirectories(dir.resolve("data"));
    for (int i = 0; i < 2 * SHARDS; i++) {
      byte[] b = new byte[SHARD_BYTES];
      random.nextBytes(b);
      Path f = data.resolve(String.format("part-%02d.tar", i));
      Files.write(f, b);
      (i < SHARDS ? uris : others).add(f.toUri());
      checks.put(f.toUri().toString(), new ShardCheck(b.length,
          HexFormat.of().formatHex(ShardCheck.newSha256().digest(b))));
    }
  }

  @AfterAll
  void stop() {
    kit.close();
  }

  DataPlan plan(long seed) {
    return plan(uris, seed);
  }

  static DataPlan plan(List<URI> shards, long seed) {
    int[] counts = new int[shards.size()];
    java.util.Arrays.fill(counts, 8);
    return new DataPlan(new Recipe(new ShardSet(shards.stream().map(URI::toString).toList(), counts), seed, 4, false,
        new Recipe.Shuffle(true, 1, 0), "none"));
  }

  NodeCache cache(Path folder, long capacity, String policy, Map<String, Long> quotas) {
    return cache(folder, capacity, policy, quotas, 0);
  }

  NodeCache cache(Path folder, long capacity, String policy, Map<String, Long> quotas, long prefetch) {
    return new NodeCache(new DiskTier(folder), new NodeCache.Settings(capacity, policy, quotas, 1L << 30, 0, 0, prefetch, PEER_MILLIS),
        Optional.empty());
  }

  CachingStore job(ShardStore s3, NodeCache cache, String id, String tenant, long seed) {
    return new CachingStore(s3, cache, id, tenant, plan(seed), 1, 3, checks, kit.mat);
  }

  CachingStore job(ShardStore s3, NodeCache cache, String id, String tenant, DataPlan plan) {
    return new CachingStore(s3, cache, id, tenant, plan, 1, 3, checks, kit.mat);
  }

  ByteString read(ShardStore store, URI u, long offset, long length) {
    return kit.concat(store.read(u, offset, length));
  }

  ByteString direct(URI u, long offset, long length) {
    return read(new FileShardStore(), u, offset, length);
  }

  @Test
  void twoJobsOfTwoTenantsShareOneCopyAndGetTheStoresBytesForAnyRange() {
    Counting s3 = new Counting();
    try (NodeCache cache = cache(dir.resolve("shared"), 1L << 30, "lru", Map.of())) {
      CachingStore a = job(s3, cache, "job-a", "red", 1);
      CachingStore b = job(s3, cache, "job-b", "blue", 2);
      for (URI u : uris) {
        assertThat(read(a, u, 0, Long.MAX_VALUE)).isEqualTo(direct(u, 0, Long.MAX_VALUE));
        assertThat(read(b, u, 1000, 5000)).isEqualTo(direct(u, 1000, 5000));
        assertThat(read(a, u, SHARD_BYTES - 10, 100)).isEqualTo(direct(u, SHARD_BYTES - 10, 100));
      }
      assertThat(s3.gets).hasSize(SHARDS).allSatisfy((u, n) -> assertThat(n.get()).as(u.toString()).isEqualTo(1));
      assertThat(cache.metrics().byTenant().get("blue").hits()).isEqualTo(SHARDS);
      assertThat(cache.metrics().byTenant().get("red").misses()).isEqualTo(SHARDS);
    }
  }

  @Test
  void withoutAManifestShardsAreNamedByTheStoresVersionTagAndSizeAndStillSharedOnce() {
    Counting s3 = new Counting();
    try (NodeCache cache = cache(dir.resolve("etag"), 1L << 30, "lru", Map.of())) {
      CachingStore a = new CachingStore(s3, cache, "job-a", "t", plan(1), 1, 1, Map.of(), kit.mat);
      CachingStore b = new CachingStore(s3, cache, "job-b", "t", plan(2), 1, 1, Map.of(), kit.mat);
      for (URI u : uris) {
        assertThat(read(a, u, 10, 100)).isEqualTo(direct(u, 10, 100));
        assertThat(read(b, u, 0, Long.MAX_VALUE)).isEqualTo(direct(u, 0, Long.MAX_VALUE));
      }
      assertThat(s3.gets).hasSize(SHARDS).allSatisfy((u, n) -> assertThat(n.get()).as(u.toString()).isEqualTo(1));
      assertThat(cache.metrics().byTenant().get("t").hits()).isEqualTo(SHARDS);
    }
  }

  @Test
  void aCorruptOrTornEntryIsFetchedAgainNeverServed() throws IOException {
    Counting s3 = new Counting();
    Path folder = dir.resolve("corrupt");
    try (NodeCache cache = cache(folder, 1L << 30, "lru", Map.of())) {
      CachingStore a = job(s3, cache, "job", "t", 1);
      URI flipped = uris.get(0);
      URI torn = uris.get(1);
      read(a, flipped, 0, Long.MAX_VALUE);
      read(a, torn, 0, Long.MAX_VALUE);
      awaitSettled(cache);
      DiskTier disk = new DiskTier(folder);
      try (RandomAccessFile f = new RandomAccessFile(disk.file(key(flipped)).toFile(), "rw")) {
        f.seek(f.length() - 7);
        int b = f.read();
        f.seek(f.length() - 7);
        f.write(b ^ 0x40);
      }
      try (RandomAccessFile f = new RandomAccessFile(disk.file(key(torn)).toFile(), "rw")) {
        f.setLength(f.length() - 1000);
      }
      assertThat(read(a, flipped, 0, Long.MAX_VALUE)).isEqualTo(direct(flipped, 0, Long.MAX_VALUE));
      assertThat(read(a, torn, 0, Long.MAX_VALUE)).isEqualTo(direct(torn, 0, Long.MAX_VALUE));
      assertThat(s3.gets.get(flipped).get()).isEqualTo(2);
      assertThat(s3.gets.get(torn).get()).isEqualTo(2);
      assertThat(cache.metrics().byTenant().get("t").corrupt()).isEqualTo(2);
    }
  }

  @Test
  void aRestartedNodeKeepsItsEntriesAndDropsHalfWrittenOnes() throws IOException {
    Counting s3 = new Counting();
    Path folder = dir.resolve("restart");
    try (NodeCache cache = cache(folder, 1L << 30, "lru", Map.of())) {
      CachingStore a = job(s3, cache, "job", "t", 1);
      for (URI u : uris) {
        read(a, u, 0, Long.MAX_VALUE);
        awaitSettled(cache);
      }
    }
    Path half = Files.write(folder.resolve(".tmp-12345"), new byte[100]);
    try (NodeCache again = cache(folder, 1L << 30, "lru", Map.of())) {
      CachingStore a = job(s3, again, "job", "t", 1);
      for (URI u : uris) {
        assertThat(read(a, u, 0, Long.MAX_VALUE)).isEqualTo(direct(u, 0, Long.MAX_VALUE));
      }
      assertThat(s3.total()).isEqualTo(SHARDS);
      assertThat(half).doesNotExist();
    }
  }

  @Test
  void overThreeShuffledEpochsThePlanFetchesLessThanLruFromTheSameReads() {
    // a cache of half the shards; the same reads, in plan order, through each policy
    Map<String, Integer> fetched = new HashMap<>();
    for (String policy : List.of("lru", "plan")) {
      Counting s3 = new Counting();
      try (NodeCache cache = cache(dir.resolve("policy-" + policy), SHARDS / 2 * (long) SHARD_BYTES, policy, Map.of())) {
        CachingStore a = job(s3, cache, "job", "t", 7);
        for (int shard : PlanReads.shards(plan(7), 1, 0, 3)) {
          read(a, uris.get(shard), 0, Long.MAX_VALUE);
          awaitSettled(cache);
        }
        fetched.put(policy, s3.total());
      }
    }
    // 36 reads of 12 shards: 12 cold misses each; LRU misses about every other read, the plan about 12 + 24/2
    assertThat(fetched.get("plan")).isLessThan(fetched.get("lru")).isLessThanOrEqualTo(12 + 12 + 2);
  }

  @Test
  void withAPrefetchBudgetTheShardsAJobReadsNextAreFetchedBeforeItAsks() {
    // the first epoch: without prefetch every read misses; with it, each read finds the shards
    // the plan names next already fetched, and nothing is fetched twice
    Counting s3 = new Counting();
    try (NodeCache cache = cache(dir.resolve("prefetch"), 1L << 30, "plan", Map.of(), 4L * SHARD_BYTES)) {
      CachingStore a = job(s3, cache, "job", "t", 5);
      int[] reads = PlanReads.shards(plan(5), 1, 0, 1);
      for (int shard : reads) {
        assertThat(read(a, uris.get(shard), 0, Long.MAX_VALUE)).isEqualTo(direct(uris.get(shard), 0, Long.MAX_VALUE));
        awaitSettled(cache);
      }
      var t = cache.metrics().byTenant().get("t");
      assertThat(t.misses()).as("only the first read misses").isEqualTo(1);
      assertThat(t.hits()).isEqualTo(reads.length - 1);
      assertThat(s3.gets).allSatisfy((u, n) -> assertThat(n.get()).as(u.toString()).isEqualTo(1));
    }
  }

  @Test
  void aTenantAtItsQuotaEvictsOnlyItsOwnEntries() {
    long quota = 4L * SHARD_BYTES;
    Map<String, Double> blueAlone = new HashMap<>();
    for (boolean withRed : List.of(false, true)) {
      Counting s3 = new Counting();
      try (NodeCache cache = cache(dir.resolve("tenants-" + withRed), 8L * SHARD_BYTES, "plan",
          Map.of("red", quota, "blue", quota))) {
        CachingStore blue = job(s3, cache, "blue-job", "blue", 3);
        CachingStore red = job(s3, cache, "red-job", "red", plan(others, 4));
        int[] blueReads = PlanReads.shards(plan(3), 1, 0, 3);
        for (int i = 0; i < blueReads.length; i++) {
          URI u = uris.get(blueReads[i]);
          read(blue, u, 0, Long.MAX_VALUE);
          awaitSettled(cache);
          if (withRed) { // red reads shards of its own, its quota's worth every two steps
            for (int k = 0; k < 2; k++) {
              read(red, others.get((i * 2 + k) % SHARDS), 0, Long.MAX_VALUE);
              awaitSettled(cache);
            }
          }
        }
        blueAlone.put(String.valueOf(withRed), cache.metrics().byTenant().get("blue").hitRatio());
        assertThat(cache.usedByTenant().getOrDefault("red", 0L)).isLessThanOrEqualTo(quota);
      }
    }
    // a third of its shards held: at most 4 hits in each epoch after the first, 8 of 36 reads — the plan gets them all
    assertThat(blueAlone.get("true")).isEqualTo(blueAlone.get("false")).isEqualTo(8 / 36.0);
  }

  /**
   * The cluster tier as this node sees it: owners in the order given, each answering with what its
   * function makes of the entry's true bytes (or never); this node ("me") owns nothing.
   */
  final class AnsweringPeers implements CachePeers {
    final Map<String, java.util.function.UnaryOperator<ByteString>> answers = new java.util.LinkedHashMap<>();
    final List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();

    AnsweringPeers answer(String node, java.util.function.UnaryOperator<ByteString> bytes) {
      answers.put(node, bytes);
      return this;
    }

    @Override
    public String self() {
      return "me";
    }

    @Override
    public List<String> owners(CacheKey key) {
      return List.copyOf(answers.keySet());
    }

    @Override
    public java.util.concurrent.CompletionStage<ByteString> fetch(String node, CacheKey key, URI uri, String tenant,
                                                                 String job) {
      asked.add(node);
      ByteString b = answers.get(node).apply(direct(uri, 0, Long.MAX_VALUE));
      return b == null ? new java.util.concurrent.CompletableFuture<>() // an owner that never answers
          : java.util.concurrent.CompletableFuture.completedFuture(b);
    }

    @Override
    public void replicate(String node, CacheKey key, URI uri, String tenant, String job) {
    }
  }

  /** {@code b} with one bit of one byte flipped: the same size, other bytes. */
  static ByteString flipped(ByteString b) {
    byte[] a = b.toArray();
    a[a.length / 2] ^= 0x10;
    return ByteString.fromArrayUnsafe(a);
  }

  NodeCache cache(Path folder, CachePeers peers) {
    return new NodeCache(new DiskTier(folder), new NodeCache.Settings(1L << 30, "lru", Map.of(), 1L << 30, 0, 0, 0,
        PEER_MILLIS), Optional.of(peers));
  }

  @Test
  void ownersAnsweringCorruptShortOrNoBytesArePassedOverCountedAndS3ServesTheEntry() {
    Counting s3 = new Counting();
    AnsweringPeers peers = new AnsweringPeers()
        .answer("corrupt", NodeCacheTest::flipped)
        .answer("short", b -> b.slice(0, b.size() - 1000))
        .answer("silent", b -> null);
    try (NodeCache cache = cache(dir.resolve("peers-bad"), peers)) {
      URI u = uris.get(3);
      assertThat(read(job(s3, cache, "job", "t", 1), u, 0, Long.MAX_VALUE)).isEqualTo(direct(u, 0, Long.MAX_VALUE));
      assertThat(peers.asked).containsExactly("corrupt", "short", "silent");
      assertThat(cache.metrics().peerRefusals()).containsExactlyInAnyOrderEntriesOf(
          Map.of("corrupt", 1L, "size", 1L, "timeout", 1L));
      assertThat(s3.gets.get(u).get()).as("S3, once every owner was passed over").isEqualTo(1);
      assertThat(cache.metrics().byTenant().get("t").bytesFromPeers()).isZero();
      assertThat(cache.holds(key(u))).as("an entry this node does not own is not kept").isFalse();
    }
  }

  @Test
  void theNextOwnerServesWhenTheFirstAnswersCorruptBytesAndS3IsNotAsked() {
    Counting s3 = new Counting();
    AnsweringPeers peers = new AnsweringPeers()
        .answer("corrupt", NodeCacheTest::flipped)
        .answer("good", b -> b);
    try (NodeCache cache = cache(dir.resolve("peers-next"), peers)) {
      URI u = uris.get(4);
      assertThat(read(job(s3, cache, "job", "t", 1), u, 0, Long.MAX_VALUE)).isEqualTo(direct(u, 0, Long.MAX_VALUE));
      assertThat(peers.asked).containsExactly("corrupt", "good");
      assertThat(cache.metrics().peerRefusals()).containsExactlyEntriesOf(Map.of("corrupt", 1L));
      assertThat(s3.total()).isZero();
      assertThat(cache.metrics().byTenant().get("t").bytesFromPeers()).isEqualTo(SHARD_BYTES);
    }
  }

  @Test
  void anObjectChangedUnderTheSameSizeIsRefusedAgainstItsManifestKeyAndNeverKept() {
    URI u = uris.get(5);
    // S3 now holds other bytes of the same size under the shard's name: the manifest's sha256 does not match
    ForwardingShardStore changed = new ForwardingShardStore(new FileShardStore()) {
      @Override
      public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
        return Source.single(flipped(direct(shard, 0, Long.MAX_VALUE)).slice((int) offset,
            (int) Math.min(SHARD_BYTES, offset + Math.min(length, SHARD_BYTES))));
      }

      @Override
      public Source<ByteString, NotUsed> read(URI shard) {
        return read(shard, 0, Long.MAX_VALUE);
      }

      @Override
      public void close() {
      }
    };
    Counting s3 = new Counting();
    try (NodeCache cache = cache(dir.resolve("changed"), 1L << 30, "lru", Map.of())) {
      CachingStore a = job(changed, cache, "job", "t", 1);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> read(a, u, 0, Long.MAX_VALUE))
          .hasStackTraceContaining("sha256").hasStackTraceContaining("but the manifest says " + checks.get(u.toString())
              .sha256());
      awaitSettled(cache);
      assertThat(cache.holds(key(u))).as("the wrong bytes are not kept").isFalse();
      assertThat(cache.usedByTenant().values().stream().mapToLong(Long::longValue).sum()).isZero();
      // the object put right: read from S3 again, not from anything kept of the wrong one
      assertThat(read(job(s3, cache, "job-2", "t", 1), u, 0, Long.MAX_VALUE)).isEqualTo(direct(u, 0, Long.MAX_VALUE));
      assertThat(s3.gets.get(u).get()).isEqualTo(1);
    }
  }

  CacheKey key(URI u) {
    return CacheKey.whole(checks.get(u.toString())).orElseThrow();
  }

  /** Waits until what was read is kept (entries are written after the reader has its bytes). */
  static void awaitSettled(NodeCache cache) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!cache.settled()) {
      assertThat(System.nanoTime()).as("the cache settles within 10 s").isLessThan(deadline);
      Thread.onSpinWait();
    }
  }
}
