package dev.conveyor.config;

import com.typesafe.config.Config;
import java.util.List;
import java.util.OptionalInt;

/**
 * What a job reads and how it batches: the {@code conveyor.job} section.
 *
 * @param rank the one rank this process serves, or empty to serve all ranks of {@code worldSize}
 * @param maxSteps batches per rank after which the job stops; 0 means no limit
 * @param selection which samples the job reads, by the dataset's catalog (a mix: each source's own)
 * @param resume where a run starts: "" the beginning, a cursor token, "latest" or "auto" (the newest
 *     cursor in {@code checkpointDir}: there must be one, or when there is one)
 */
public record JobSettings(
    String shards,
    String manifest,
    int batchSize,
    boolean dropLast,
    Shuffle shuffle,
    int epochs,
    long seed,
    int worldSize,
    OptionalInt rank,
    Decode decode,
    OnBadSample onBadSample,
    double maxBadFraction,
    long maxSteps,
    String checkpointDir,
    int checkpointEvery,
    int checkpointKeep,
    int readerParallelism,
    int stageParallelism,
    long maxMemberBytes,
    long readAheadBytes,
    String tenant,
    String resume,
    List<SourceSettings> sources,
    MixBatching mix,
    boolean fullBatches,
    java.util.Optional<Pack> pack,
    java.util.Optional<Bucket> bucket,
    Selection selection) {

  /**
   * Token packing ({@code conveyor.job.pack}): rows of exactly {@code length} tokens of the
   * samples' {@code field} arrays, a sample longer than a row split or ({@code dropLong}) left out.
   */
  public record Pack(String field, int length, boolean dropLong) {}

  /**
   * Length buckets ({@code conveyor.job.bucket}): a sample of {@code n} tokens of {@code field}
   * goes to the bucket of the boundaries at or below {@code n}; a batch is that bucket's batch
   * size of samples, made a pool of {@code pool} kept samples at a time.
   */
  public record Bucket(String field, List<Integer> boundaries, List<Integer> batchSizes, int pool) {
    public Bucket {
      boundaries = List.copyOf(boundaries);
      batchSizes = List.copyOf(batchSizes);
    }
  }

  /** A mix's batches: each holds every source's share, or each comes from one source. */
  public enum MixBatching { STRATIFIED, PER_SOURCE }

  /** A job that names {@code shards} (no sources). */
  public JobSettings(String shards, String manifest, int batchSize, boolean dropLast, Shuffle shuffle, int epochs, long seed,
                     int worldSize, OptionalInt rank, Decode decode, OnBadSample onBadSample, double maxBadFraction,
                     long maxSteps, String checkpointDir, int checkpointEvery, int checkpointKeep, int readerParallelism,
                     int stageParallelism, long maxMemberBytes, long readAheadBytes, String tenant, String resume) {
    this(shards, manifest, batchSize, dropLast, shuffle, epochs, seed, worldSize, rank, decode, onBadSample, maxBadFraction,
        maxSteps, checkpointDir, checkpointEvery, checkpointKeep, readerParallelism, stageParallelism, maxMemberBytes,
        readAheadBytes, tenant, resume, List.of(), MixBatching.STRATIFIED, false, java.util.Optional.empty(),
        java.util.Optional.empty(), Selection.ALL);
  }

  /** Whether the job mixes sources ({@code sources}) rather than reading {@code shards}. */
  public boolean mixed() {
    return !sources.isEmpty();
  }

  /** The {@code shuffle} section. */
  public record Shuffle(boolean enabled, int windowShards, int buffer) {}

  public static final String PATH = "conveyor.job";

  /** How samples are decoded. */
  public enum Decode { NONE, AUTO }

  /** What a bad sample does to the job. */
  public enum OnBadSample { SKIP, FAIL }

  private static String tenant(ConfigReader r) {
    String t = r.string("tenant");
    if (!t.matches("[A-Za-z0-9_-]+")) {
      throw new SettingsException(r.key("tenant"), "is letters, digits, - and _, got \"" + t + "\"");
    }
    return t;
  }

  public static JobSettings fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    String shards = r.string("shards");
    List<SourceSettings> sources = SourceSettings.list(config);
    if (!shards.isBlank() && !sources.isEmpty()) {
      throw new SettingsException(SourceSettings.PATH, "and " + r.key("shards") + " are both given: a job names shards or"
          + " sources (a mix), not both");
    }
    if (shards.isBlank() && sources.isEmpty()) {
      throw new SettingsException(r.key("shards"),
          "is required: name the shards, e.g. shards = \"s3://bucket/train/part-{000000..000015}.tar\" (or --shards),"
          + " or mix sources with " + SourceSettings.PATH);
    }
    int world = r.intAtLeast("world-size", 1);
    int rank = r.intAtLeast("rank", -1);
    if (rank >= world) {
      throw new SettingsException(r.key("rank"), "must be below world-size " + world + " (or -1 for all ranks), got " + rank);
    }
    Decode decode = r.enumValue("decode", Decode.class);
    java.util.Optional<Pack> pack = pack(r);
    java.util.Optional<Bucket> bucket = bucket(r);
    if (pack.isPresent() && bucket.isPresent()) {
      throw new SettingsException(r.key("bucket.field"), "and " + r.key("pack.field") + " are both set: a batch is"
          + " packed rows or one bucket's samples, not both");
    }
    if (bucket.isPresent() && !sources.isEmpty()) {
      throw new SettingsException(r.key("bucket.field"), "is not yet supported for a mix of sources ("
          + SourceSettings.PATH + ")");
    }
    boolean full = r.bool("full-batches") || pack.isPresent() || bucket.isPresent();
    if (full && rank >= 0 && world > 1) {
      throw new SettingsException(r.key("rank"), "is " + rank + ", but full batches need every rank of the job in one"
          + " job (its ranks agree how many batches each epoch has): leave rank = -1, on one machine or on a cluster");
    }
    return new JobSettings(
        shards,
        r.string("manifest"),
        r.intAtLeast("batch-size", 1),
        r.bool("drop-last"),
        new Shuffle(r.bool("shuffle.enabled"), r.intAtLeast("shuffle.window-shards", 1), r.intAtLeast("shuffle.buffer", 0)),
        r.intAtLeast("epochs", 1),
        r.longAtLeast("seed", Long.MIN_VALUE),
        world,
        rank < 0 ? OptionalInt.empty() : OptionalInt.of(rank),
        decode,
        r.enumValue("on-bad-sample", OnBadSample.class),
        maxBadFraction(r),
        r.longAtLeast("max-steps", 0),
        r.string("checkpoint-dir"),
        r.intAtLeast("checkpoint-every", 0),
        r.intAtLeast("checkpoint-keep", 1),
        r.intAtLeast("reader-parallelism", 1),
        stageParallelism(r.intAtLeast("stage-parallelism", 0)),
        r.bytesAtLeast("max-member-size", 1),
        r.bytesAtLeast("read-ahead", 0),
        tenant(r),
        resume(r),
        sources,
        r.enumValue("mix", MixBatching.class),
        full,
        pack,
        bucket,
        selection(r, sources));
  }

  /** The job's {@code where} and {@code corpus-version}: for its shards; a mix gives each source its own. */
  private static Selection selection(ConfigReader r, List<SourceSettings> sources) {
    Selection s = Selection.read(r.string("where"), r.string("corpus-version"), r.string("catalog"), PATH);
    if (s.chooses() && !sources.isEmpty()) {
      throw new SettingsException(r.key("where"), "is for a job's shards: a mix gives each source its own (where ="
          + " \"...\" in " + SourceSettings.PATH + "[i])");
    }
    return s;
  }

  private static java.util.Optional<Bucket> bucket(ConfigReader r) {
    String field = r.string("bucket.field");
    if (field.isBlank()) {
      return java.util.Optional.empty();
    }
    List<Integer> boundaries = r.intList("bucket.boundaries");
    for (int i = 0; i < boundaries.size(); i++) {
      if (boundaries.get(i) < 1 || (i > 0 && boundaries.get(i) <= boundaries.get(i - 1))) {
        throw new SettingsException(r.key("bucket.boundaries"), "are token counts above 0, each above the one before,"
            + " got " + boundaries);
      }
    }
    List<Integer> sizes = r.intList("bucket.batch-sizes");
    if (sizes.size() != boundaries.size() + 1 || sizes.stream().anyMatch(n -> n < 1)) {
      throw new SettingsException(r.key("bucket.batch-sizes"), "needs one batch size of at least 1 per bucket: "
          + boundaries.size() + " boundaries make " + (boundaries.size() + 1) + " buckets, got " + sizes);
    }
    int pool = r.intAtLeast("bucket.pool", 1);
    int largest = sizes.stream().mapToInt(Integer::intValue).max().orElse(1);
    if (pool < largest) {
      throw new SettingsException(r.key("bucket.pool"), "is " + pool + ", too few kept samples to fill a batch of "
          + largest + ": make it at least the largest batch size");
    }
    return java.util.Optional.of(new Bucket(field, boundaries, sizes, pool));
  }

  private static java.util.Optional<Pack> pack(ConfigReader r) {
    String field = r.string("pack.field");
    if (field.isBlank()) {
      return java.util.Optional.empty();
    }
    String long_ = r.string("pack.long-samples");
    if (!long_.equals("split") && !long_.equals("drop")) {
      throw new SettingsException(r.key("pack.long-samples"), "is split or drop, got \"" + long_ + "\"");
    }
    return java.util.Optional.of(new Pack(field, r.intAtLeast("pack.length", 1), long_.equals("drop")));
  }

  private static String resume(ConfigReader r) {
    String v = r.string("resume").strip();
    boolean named = v.equals("latest") || v.equals("auto");
    if (!v.isEmpty() && !named && !v.startsWith("cv")) {
      throw new SettingsException(r.key("resume"), "is \"\" (start), a cursor token (cv1.…), \"latest\" or \"auto\", got \""
          + (v.length() > 40 ? v.substring(0, 40) + "…" : v) + "\"");
    }
    if (named && r.string("checkpoint-dir").isEmpty()) {
      throw new SettingsException(r.key("resume"), "\"" + v + "\" reads the cursors in checkpoint-dir, which is empty:"
          + " give --checkpoint-dir (or " + PATH + ".checkpoint-dir)");
    }
    return v;
  }

  private static double maxBadFraction(ConfigReader r) {
    double f = r.positiveDouble("max-bad-fraction");
    if (f > 1) {
      throw new SettingsException(r.key("max-bad-fraction"), "is a fraction: at most 1.0 (which never fails), got " + f);
    }
    return f;
  }

  private static int stageParallelism(int configured) {
    return configured == 0 ? Runtime.getRuntime().availableProcessors() : configured;
  }

}
