package dev.conveyor.orchestrator.node;

import dev.conveyor.config.TrainerRingSettings;
import dev.conveyor.workers.feeder.RingTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * The trainer processes attached to this node, by rank: a rank placed here whose trainer is
 * attached is fed through a shared-memory ring ({@link RingTrainer}) instead of a stand-in
 * thread. An attachment serves the next job that runs its rank here, once.
 */
public final class TrainerRings implements Extension {
  public static final Id ID = new Id();

  public static final class Id extends AbstractExtensionId<TrainerRings> {
    @Override
    public TrainerRings createExtension(ExtendedActorSystem system) {
      return new TrainerRings();
    }
  }

  /** A trainer waiting for its rank: the ring's settings, where to announce the ring, and whether it is still there. */
  public record Attachment(RingTrainer.Settings settings, Consumer<RingTrainer.Announced> announce, BooleanSupplier alive) {}

  private final Map<Integer, Attachment> waiting = new ConcurrentHashMap<>();

  /** The writer's settings from the node's {@code trainer-ring} section. */
  public static RingTrainer.Settings settings(TrainerRingSettings t) {
    return new RingTrainer.Settings(t.dir().isEmpty() ? RingTrainer.Settings.defaultDir() : Path.of(t.dir()), t.slotSize(),
        t.bytes(), t.minDepth(), Duration.ofMillis(t.attachTimeoutMillis()), NodeAgent.TRAINER_WAIT);
  }

  public static TrainerRings get(ActorSystem<?> system) {
    return ID.get(Adapter.toClassic(system));
  }

  /** Rank {@code rank}'s trainer is attached: the next run of that rank here writes its ring. */
  public void attach(int rank, Attachment a) {
    if (waiting.putIfAbsent(rank, a) != null) {
      throw new IllegalStateException("a trainer for rank " + rank + " is already attached to this node");
    }
  }

  /** Whether a trainer waits for {@code rank} (and is still there). */
  boolean attached(int rank) {
    Attachment a = waiting.get(rank);
    if (a != null && !a.alive().getAsBoolean()) {
      waiting.remove(rank, a);
      return false;
    }
    return a != null;
  }

  /** The ranks whose trainers are attached and still there, in order. */
  public List<Integer> attachedRanks() {
    return waiting.keySet().stream().filter(this::attached).sorted().toList();
  }

  /** The trainer attached for {@code rank}, taken for the rank's run; empty when none is. */
  Optional<Attachment> claim(int rank) {
    return attached(rank) ? Optional.ofNullable(waiting.remove(rank)) : Optional.empty();
  }

  /** Drops the attachment of {@code rank} if it is {@code a} (its trainer went away before a job came). */
  public void detach(int rank, Attachment a) {
    waiting.remove(rank, a);
  }
}
