package dev.conveyor.streams.dsl;

import dev.conveyor.config.PoolSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.decode.AuthorClasses;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.decode.SampleMap;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A pipeline author's job, named by class ({@code run --pipeline CLASS}, or
 * {@code conveyor.job.pipeline} in a job file): {@link #define} builds the {@link Pipeline}. It
 * must be a pure function — the process that starts the job calls it for the settings, and every
 * node for the stages its decoders run — and the class needs a public no-argument constructor.
 */
@FunctionalInterface
public interface PipelineDefinition {
  Pipeline define();

  /** The pipeline of the class named {@code className}; a clear error naming {@code conveyor.job.pipeline} otherwise. */
  static Pipeline load(String className) {
    try {
      return AuthorClasses.instance(className, PipelineDefinition.class).define();
    } catch (IllegalArgumentException e) {
      throw new SettingsException(StageSettings.PIPELINE, e.getMessage());
    } catch (RuntimeException e) {
      throw new SettingsException(StageSettings.PIPELINE, className + ".define() failed: " + e);
    }
  }

  /**
   * How a recipe's fingerprint names the pipeline {@code className}: {@code ;pipeline=CLASS[shape]}
   * (its stages' names and places), so that a cursor of one pipeline does not resume another and a
   * node with another version of the class can tell.
   */
  static String fingerprint(String className, Pipeline pipeline) {
    return ";pipeline=" + className + "[" + pipeline.signature() + "]";
  }

  /**
   * Why a node cannot run the author stages of a job with {@code stages} whose recipe was planned
   * with {@code plannedDecode} (its decode string): their class is not on the node's class path or
   * cannot be made, or its pipeline has other stages than the recipe names (another version of the
   * jar). Empty when it can.
   */
  static Optional<String> refusal(StageSettings stages, String plannedDecode) {
    try {
      steps(stages);
      if (stages.pipeline().isPresent()) {
        String name = stages.pipeline().get();
        Pipeline pipeline = load(name);
        Optional<String> pools = poolsMismatch(stages, pipeline);
        if (pools.isPresent()) {
          return Optional.of(PoolSettings.POOLS + " " + pools.get());
        }
        String here = fingerprint(name, pipeline);
        if (!plannedDecode.endsWith(here)) {
          int at = plannedDecode.lastIndexOf(";pipeline=");
          return Optional.of("its " + name + " has other stages (" + here + ") than the job was planned with ("
              + (at < 0 ? "none" : plannedDecode.substring(at)) + "): another version of its jar");
        }
      }
      return Optional.empty();
    } catch (IllegalArgumentException | SettingsException e) {
      return Optional.of(e.getMessage());
    }
  }

  /**
   * What makes one actor of {@code pool} (a stage of the job's pipeline): each call loads the
   * pipeline afresh and makes a new instance of the stage's class, with the stages fused after it.
   */
  static Supplier<AuthorSteps> actorSteps(StageSettings stages, String pool) {
    String name = stages.pipeline().orElseThrow(() -> new SettingsException(PoolSettings.POOLS,
        "actor pools are a pipeline's stages: " + StageSettings.PIPELINE + " is not set"));
    return () -> load(name).actorSteps(pool);
  }

  /**
   * Why the pools {@code stages} name ({@code conveyor.job.pools}) are not {@code pipeline}'s
   * actor stages, each named once; empty when they are.
   */
  static Optional<String> poolsMismatch(StageSettings stages, Pipeline pipeline) {
    List<String> have = pipeline.pools().stream().map(PoolSettings.Pool::stage).sorted().toList();
    List<String> named = stages.pools().pools().stream().map(PoolSettings.Pool::stage).sorted().toList();
    return have.equals(named) ? Optional.empty() : Optional.of("names the pools " + named + " but "
        + stages.pipeline().orElse("the pipeline") + " has the actor stages " + have + ": name each of them once");
  }

  /** The author's stages a decoder runs for a job with {@code stages}: its pipeline's, its map class, or none. */
  static AuthorSteps steps(StageSettings stages) {
    if (stages.pipeline().isPresent()) {
      return load(stages.pipeline().get()).steps();
    }
    return stages.mapClass().map(SampleMap::named).map(AuthorSteps::mapping).orElse(AuthorSteps.NONE);
  }
}
