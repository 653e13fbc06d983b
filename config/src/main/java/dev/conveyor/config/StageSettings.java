package dev.conveyor.config;

import com.typesafe.config.Config;
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
 */
public record StageSettings(double decoderCpus, int pool, Optional<String> mapClass, double mapCpus) {
  public static final String DECODERS = JobSettings.PATH + ".decoders";
  public static final String MAP = JobSettings.PATH + ".map";

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
  }

  /** One decoder per CPU slot, no map stage. */
  public static StageSettings defaults() {
    return new StageSettings(1, 0, Optional.empty(), 0);
  }

  public static StageSettings fromConfig(Config config) {
    ConfigReader d = new ConfigReader(config, DECODERS);
    ConfigReader m = new ConfigReader(config, MAP);
    String map = m.string("class");
    return new StageSettings(d.positiveDouble("cpus"), d.intAtLeast("pool", 0),
        map.isBlank() ? Optional.empty() : Optional.of(map), m.nonNegativeDouble("cpus"));
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
