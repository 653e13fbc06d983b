package dev.conveyor.workers.pool;

import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.workers.reader.ShardReader;
import dev.conveyor.workers.wire.WireMessage;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A worker's actor pools for one job, open to the samples other workers decoded: a worker that
 * cannot host the job's pools (it lacks the GPU, memory or custom resource a pool asks) still
 * reads and decodes its share of the slices and sends each group to a front through its
 * {@link PoolRouter}; the front runs the group through this worker's pools, in the pipeline's
 * order, as it runs its own, and answers in parts that each fit one message between nodes.
 * Fronts are found through the receptionist, under the job's {@link #key}.
 */
public final class PoolFront {
  private PoolFront() {}

  /** What a front is asked. */
  public sealed interface Command extends WireMessage permits Run {}

  /**
   * Run the events of {@code group} (of {@code epoch}) through the pools here and answer
   * {@code replyTo} with {@link PoolRouter.Ran} parts numbered {@code id}.
   */
  public record Run(long id, int epoch, List<ReadEvent> group, ActorRef<PoolRouter.Command> replyTo)
      implements Command {
    public Run {
      group = List.copyOf(group);
    }
  }

  /** The receptionist's key for the fronts of job {@code jobId}. */
  public static ServiceKey<Command> key(String jobId) {
    return ServiceKey.create(Command.class, "conveyor-pool-front-" + jobId);
  }

  /**
   * The front of job {@code jobId}'s pools here, run by {@code pools} (each stage's pool in
   * order), answering in parts of at most {@code maxBytes} (a sample the pools made larger than
   * that is answered as a dead letter, as a reader would send it).
   */
  public static Behavior<Command> create(String jobId, SampleStage pools, long maxBytes) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(key(jobId), ctx.getSelf()));
      return Behaviors.receive(Command.class).onMessage(Run.class, run -> {
        pools.apply(run.epoch(), run.group()).whenComplete((out, failure) -> {
          List<ReadEvent> answer = failure == null ? out
              : PoolActor.deadLetters(run.group(), "the job's pools failed on it (" + failure + ")");
          List<List<ReadEvent>> parts = ShardReader.messages(answer, maxBytes);
          for (int i = 0; i < parts.size(); i++) {
            run.replyTo().tell(new PoolRouter.Ran(run.id(), parts.get(i), i == parts.size() - 1));
          }
          if (parts.isEmpty()) {
            run.replyTo().tell(new PoolRouter.Ran(run.id(), List.of(), true));
          }
        });
        return Behaviors.same();
      }).build();
    });
  }
}
