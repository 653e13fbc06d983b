package dev.conveyor.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;

/**
 * The stage graph's resources, as the pipeline author declares them (Ray Data's
 * {@code map_batches(fn, concurrency=…, num_cpus=…)}): the {@code conveyor.job.decoders} and
 * {@code conveyor.job.map} sections, or {@code Stages} in code. Decoders run on worker nodes
 * (or in this process); the author's map stage runs in each decoder after decoding.
 *
 * @param decoderCpus CPU slots one decoder takes
 * @param pool        decoders per worker; 0: as many as the worker's CPU slots allow
 * @param mapClass    the author's {@code SampleMap} class, if any
 * @param mapCpus     CPU slots the map adds to each decoder
 * @param handOff     how samples are grouped where one stage hands them to the next
 * @param pipeline    the author's pipeline class ({@code conveyor.job.pipeline}), whose stages run in each decoder
 * @param pools       the pipeline's actor-pool stages, and how they grow and shrink
 * @param sink        where a batch job writes its samples ({@code conveyor.job.sink}), instead of feeding trainers
 */
public record StageSettings(double decoderCpus, int pool, Optional<String> mapClass, double mapCpus, HandOff handOff,
                            Optional<String> pipeline, PoolSettings pools, Optional<SinkSettings> sink) {
  public static final String DECODERS = JobSettings.PATH + ".decoders";
  public static final String PIPELINE = JobSettings.PATH + ".pipeline";
  public static final String MAP = JobSettings.PATH + ".map";
  public static final String HAND_OFF = JobSettings.PATH + ".hand-off";

  /**
   * The {@code conveyor.job.hand-off} section: consecutive samples go from the reader to the
   * decoders, and from a worker to the rank, in groups of up to {@code samples} samples and
   * {@code bytes} bytes (as read), so that each hand-over — a message between actors, threads
   * or nodes — is paid once per group; a group waits at most {@code linger} for its next
   * sample before it goes as it is. One sample per group hands them over one by one.
   */
  public record HandOff(int samples, long bytes, Duration linger) {
    /** What reference.conf says. */
    public static final HandOff DEFAULT = new HandOff(16, 1 << 20, Duration.ofMillis(10));

    public HandOff {
      if (samples < 1) {
        throw new SettingsException(HAND_OFF + ".samples", "must be at least 1, got " + samples);
      }
      if (bytes < 1) {
        throw new SettingsException(HAND_OFF + ".bytes", "must be at least 1 byte, got " + bytes);
      }
      if (linger.isNegative() || linger.isZero()) {
        throw new SettingsException(HAND_OFF + ".linger", "must be above 0, got " + linger.toMillis() + " ms");
      }
    }

    /** Samples handed over one at a time. */
    public static HandOff oneByOne() {
      return new HandOff(1, Long.MAX_VALUE, DEFAULT.linger());
    }
  }

  /** These settings, no actor pools. */
  public StageSettings(double decoderCpus, int pool, Optional<String> mapClass, double mapCpus, HandOff handOff,
                       Optional<String> pipeline) {
    this(decoderCpus, pool, mapClass, mapCpus, handOff, pipeline, PoolSettings.NONE, Optional.empty());
  }

  /** These resources, samples handed over in reference.conf's groups. */
  public StageSettings(double decoderCpus, int pool, Optional<String> mapClass, double mapCpus) {
    this(decoderCpus, pool, mapClass, mapCpus, HandOff.DEFAULT);
  }

  /** These resources and hand-off, no pipeline class. */
  public StageSettings(double decoderCpus, int pool, Optional<String> mapClass, double mapCpus, HandOff handOff) {
    this(decoderCpus, pool, mapClass, mapCpus, handOff, Optional.empty());
  }

  public StageSettings {
    if (!(decoderCpus > 0)) {
      throw new SettingsException(DECODERS + ".cpus", "must be above 0, got " + decoderCpus);
    }
    if (pool < 0) {
      throw new SettingsException(DECODERS + ".pool", "must be 0 (as many as the CPU slots allow) or more, got " + pool);
    }
    if (mapCpus < 0) {
      throw new SettingsException(MAP + ".cpus", "must be 0 or more, got " + mapCpus);
    }
    if (mapClass.isPresent() && mapClass.get().isBlank()) {
      mapClass = Optional.empty();
    }
    if (pipeline.isPresent() && pipeline.get().isBlank()) {
      pipeline = Optional.empty();
    }
    if (!pools.pools().isEmpty() && pipeline.isEmpty()) {
      throw new SettingsException(PoolSettings.POOLS, "actor pools are a pipeline's stages (Stage.actor(...)): set "
          + PIPELINE + " to the pipeline class that has them");
    }
    if (mapClass.isPresent() && pipeline.isPresent()) {
      throw new SettingsException(MAP + ".class", "a job has a map class or a pipeline (" + PIPELINE + " = "
          + pipeline.get() + "), not both: make the map a stage of the pipeline");
    }
  }

  /** One decoder per CPU slot, no map stage, samples handed over in reference.conf's groups. */
  public static StageSettings defaults() {
    return new StageSettings(1, 0, Optional.empty(), 0);
  }

  public static StageSettings fromConfig(Config config) {
    ConfigReader d = new ConfigReader(config, DECODERS);
    ConfigReader m = new ConfigReader(config, MAP);
    ConfigReader h = new ConfigReader(config, HAND_OFF);
    String map = m.string("class");
    String pipeline = new ConfigReader(config, JobSettings.PATH).string("pipeline");
    return new StageSettings(d.positiveDouble("cpus"), d.intAtLeast("pool", 0),
        map.isBlank() ? Optional.empty() : Optional.of(map), m.nonNegativeDouble("cpus"),
        new HandOff(h.intAtLeast("samples", 1), h.bytesAtLeast("bytes", 1),
            Duration.ofMillis(h.durationMillisAtLeast("linger", 1))),
        pipeline.isBlank() ? Optional.empty() : Optional.of(pipeline), PoolSettings.fromConfig(config),
        SinkSettings.fromConfig(config));
  }

  /** CPU slots one decoder takes with its map stage. */
  public double cpusPerDecoder() {
    return decoderCpus + mapCpus;
  }

  /** Decoders on a node with {@code slots} CPU slots: the pool if set, else as many as fit (at least one). */
  public int decodersFor(int slots) {
    return pool > 0 ? pool : Math.max(1, (int) Math.floor(slots / cpusPerDecoder()));
  }
}
