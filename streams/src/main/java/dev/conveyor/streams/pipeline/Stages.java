package dev.conveyor.streams.pipeline;

import dev.conveyor.config.Resources;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.decode.SampleMap;
import java.util.Optional;

/**
 * The stage graph's resources in code, for a pipeline author who builds a job in Java rather
 * than in a job file — the same as {@code conveyor.job.decoders} and {@code conveyor.job.map}:
 * <pre>{@code
 * StageSettings stages = Stages.decode(Resources.cpus(1)).pool(4)
 *     .map(RandomErase.class, Resources.cpus(0.5))
 *     .settings();
 * }</pre>
 * Decoders run on worker nodes, each taking its CPU slots; the map runs in each decoder after
 * decoding (Ray Data's {@code map(fn, num_cpus=…, concurrency=…)}).
 */
public final class Stages {
  private final StageSettings settings;

  private Stages(StageSettings settings) {
    this.settings = settings;
  }

  /** Decoders that take {@code r} each, as many per worker as its CPU slots allow. */
  public static Stages decode(Resources r) {
    return new Stages(new StageSettings(r.cpus(), 0, Optional.empty(), 0));
  }

  /** Exactly {@code decoders} decoders per worker. */
  public Stages pool(int decoders) {
    return new Stages(new StageSettings(settings.decoderCpus(), decoders, settings.mapClass(), settings.mapCpus(),
        settings.handOff()));
  }

  /** The author's map stage, run in each decoder after decoding, adding {@code r} to what a decoder takes. */
  public Stages map(Class<? extends SampleMap> map, Resources r) {
    return new Stages(new StageSettings(settings.decoderCpus(), settings.pool(), Optional.of(map.getName()), r.cpus(),
        settings.handOff()));
  }

  public StageSettings settings() {
    return settings;
  }
}
