package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.delivery.ClientEvent;
import dev.conveyor.workers.wire.WireMessage;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The cluster's job coordinator (one per cluster, a Cluster Singleton on the oldest worker
 * node). For a submitted job it finds the node agents, has every node prepare (workers start
 * their shard readers), places the ranks on the trainer hosts, round-robin, and keeps the
 * job's cursor: the ranks report every delivered batch to its {@link CheckpointActor}, which
 * saves it to the job's checkpoint directory. The ranks report their batches to the client
 * directly, so that nothing the client sees passes through here.
 *
 * <p>When the node it runs on is lost, the singleton starts again on the next oldest worker
 * with no memory of the job; the client, watching it, asks the new one to {@link Adopt} the
 * job: it goes on from the newest valid cursor in the checkpoint directory, has every node
 * report to it from then on, and takes from each where its ranks are. The ranks never stop.
 *
 * <p>Its states are classes of their own: {@link Idle}, {@link Placing} (finding the node
 * agents, having them prepare, placing the ranks) and {@link RunningJob}; what they share is
 * {@link Coordination}.
 */
public final class JobCoordinator {
  private JobCoordinator() {}

  /** What the coordinator is told. */
  public sealed interface Command permits Submit, Adopt, Finish, Cancel, RankDelivered, RankFinished, RankLost, HandOver, Local {}

  /** Run {@code job}; its events go to {@code client}, its ranks' reports too. */
  public record Submit(JobSpec job, ActorRef<ClientEvent> client) implements Command, WireMessage {}

  /** Take over {@code job}, which is running: its coordinator was lost. */
  public record Adopt(JobSpec job, ActorRef<ClientEvent> client) implements Command, WireMessage {}

  /**
   * The client has every rank's end of job {@code jobId}: the coordinator answers {@link Finished}
   * once it has them too (it would anyway; the client asks again after a take-over).
   */
  public record Finish(String jobId) implements Command, WireMessage {}

  /**
   * The client stops job {@code jobId} for {@code reason} (its data is over the bad-sample
   * bound): the coordinator stops the ranks, saves the cursor and answers {@link Failed}.
   */
  public record Cancel(String jobId, String reason) implements Command, WireMessage {}

  /** A rank of job {@code jobId} delivered its last batch (after its deliveries, from the same node). */
  public record RankFinished(String jobId, int rank) implements Command, WireMessage {}

  /** A rank of job {@code jobId} failed and its node cannot go on with it: the job stops. */
  public record RankLost(String jobId, int rank, String reason) implements Command, WireMessage {}

  /** A rank of job {@code jobId} delivered a batch. */
  public record RankDelivered(String jobId, CheckpointActor.Delivered delivered) implements Command, WireMessage {}

  /**
   * The coordinator's node is leaving (the singleton's stop message): save the running job's
   * cursor, then stop; the successor takes the job over from it.
   */
  public record HandOver() implements Command, WireMessage {}

  /** What a client hears of its job from the coordinator. */
  public sealed interface JobEvent extends ClientEvent, WireMessage permits Placed, Adopted, Finished, Failed, Unplaceable {}

  /**
   * Where the job runs — the ranks' trainer hosts, the workers' readers and each worker's share
   * of the slices ({@code node=shares}) — who coordinates it, and from which cursor; {@code notes}:
   * what the coordinator found on the way there for the user to hear (a resume from an older
   * cursor than latest.cursor, an elastic resume).
   */
  public record Placed(List<String> trainerHosts, int readers, List<String> shares, ActorRef<Command> coordinator,
                       String start, List<String> notes) implements JobEvent {}

  /** A new coordinator, on {@code node}, took the job over, going on from cursor {@code recovered}. */
  public record Adopted(String node, ActorRef<Command> coordinator, String recovered, boolean fromCheckpoint)
      implements JobEvent {}

  /** The job's final cursor, and whether it is saved in the checkpoint directory. */
  public record Finished(String cursor, boolean persisted) implements JobEvent {}

  /** The job cannot run or go on; {@code passing}: it may when submitted again (nodes still joining, another job running). */
  public record Failed(String reason, boolean passing) implements JobEvent {}

  /**
   * No worker can run the job's actor pools: none offers what one of its stages asks
   * ({@code reason} names the stage, the ask and each worker's offer). A configuration error.
   */
  public record Unplaceable(String reason) implements JobEvent {}

  /**
   * The coordinator's messages to itself ({@link Internal}): they never leave the node, so they
   * have no wire format. Package-private, so no one outside the coordinator can send one.
   */
  non-sealed interface Local extends Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {}

}
