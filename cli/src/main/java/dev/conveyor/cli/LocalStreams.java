package dev.conveyor.cli;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;

/**
 * Streams for a command that is no cluster member ({@code index}, {@code pack}): an actor system
 * of its own, Pekko's log at WARNING; closing terminates it.
 */
final class LocalStreams implements AutoCloseable {
  private final ActorSystem system;
  final Materializer mat;

  LocalStreams(String name) {
    this.system = ActorSystem.create(name, ConfigFactory.parseString("pekko.loglevel = WARNING")
        .withFallback(ConfigFactory.load()));
    this.mat = Materializer.createMaterializer(system);
  }

  @Override
  public void close() {
    system.terminate();
  }
}
