package dev.conveyor.workers.pool;

import dev.conveyor.config.PoolSettings;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.workers.pool.PoolWork.Job;
import dev.conveyor.workers.pool.PoolWork.Work;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One actor-pool stage on one node (Ray Data's {@code ActorPoolStrategy}): a set of actors, each
 * holding the instance of the author's class its {@code AuthorSteps} made when it started,
 * taking groups of consecutive samples from the pool as it becomes idle (work pulling), so that a
 * slow group never holds up samples another actor could take. The answers complete the futures
 * the rank's stream waits on in plan order, whichever actor finishes first.
 *
 * <p>Autoscaling: the pool starts {@code min} actors, adds one while a group has waited
 * {@code grow-after} for an actor (one at a time: not while another is still being made), up to
 * its limit — its {@code max}, or fewer where the node's resources hold fewer — and stops one
 * idle for {@code shrink-after}, never below {@code min}. Each decision is logged with its
 * figures and kept in {@link PoolStats}.
 *
 * <p>Failure: an actor whose stage throws on a sample reports the samples it finished and is
 * made again (a new instance: its state may be broken); the sample it failed on goes to the
 * front of the queue to be tried once more, by whichever actor is idle first, and is a dead
 * letter naming the stage if it fails again; the rest of its group goes on. An actor whose
 * constructor fails is made again; {@code constructor-failures} failures in a row leave the pool
 * broken: every sample sent to it becomes a dead letter naming the stage and the failure, so the
 * job's bad-sample bound stops the job with that reason. An actor holding a group longer than
 * {@code sample-timeout} a sample is given up on and replaced; the group is tried once more, then
 * its samples are dead letters naming the stage.
 */
public final class ActorPool {
  private ActorPool() {}

  /** What the pool is told. Local only: futures cross no network. */
  public sealed interface Command extends NoSerializationVerificationNeeded
      permits Apply, Started, ConstructorFailed, Done, Failed, Tick {}

  /** Run the stage on {@code group} (consecutive events of {@code epoch}); complete {@code answer} with it. */
  public record Apply(int epoch, List<ReadEvent> group, CompletableFuture<List<ReadEvent>> answer) implements Command {}

  record Started(ActorRef<Work> actor) implements Command {}

  record ConstructorFailed(ActorRef<Work> actor, String error) implements Command {}

  record Done(ActorRef<Work> actor, Job job, List<ReadEvent> out) implements Command {}

  /**
   * {@code actor} threw on event {@code failedAt} of the job's events: {@code out} holds the events
   * before it, done; {@code error} says what the stage threw.
   */
  record Failed(ActorRef<Work> actor, Job job, List<ReadEvent> out, int failedAt, String error) implements Command {}

  enum Tick implements Command { INSTANCE }

  /**
   * The pool for {@code pool} on this node, up to {@code limit} actors, each running what
   * {@code steps} makes (the author's instance, then the stages fused after it), with the
   * recipe's {@code seed}.
   */
  public static Behavior<Command> create(PoolSettings.Pool pool, PoolSettings.Autoscale autoscale, int limit, long seed,
                                         Supplier<AuthorSteps> steps, PoolStats stats) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new PoolBalancer(ctx, timers, pool, autoscale,
        Math.max(pool.min(), Math.min(limit, pool.max())), seed, steps, stats)));
  }

  /** The per-sample stage that hands each group to {@code pool} and waits for its answer. */
  public static SampleStage stage(ActorRef<Command> pool) {
    return PoolActor.handing((epoch, group, answer) -> pool.tell(new Apply(epoch, group, answer)));
  }

  /** The pool's dispatcher (workers' reference.conf): threads of their own, so a slow constructor holds up no decoder. */
  public static final String DISPATCHER = "conveyor.workers.pool-dispatcher";
}
