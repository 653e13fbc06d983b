package dev.conveyor.orchestrator.coordinator;

import dev.conveyor.orchestrator.checkpoint.CheckpointActor;
import dev.conveyor.orchestrator.node.NodeAgent;
import dev.conveyor.orchestrator.node.NodeAgent.Prepared;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The coordinator's messages to itself: answers adapted from the receptionist, the node agents
 * and the checkpoint actor, timers, and what it watches. They live apart from the protocol in
 * {@link JobCoordinator}, which the node agents use, so that the protocol does not depend on
 * theirs.
 */
final class Internal {
  private Internal() {}

  /** The node agents the receptionist knows. */
  record Nodes(Receptionist.Listing listing) implements JobCoordinator.Local {}

  /** Time to ask the receptionist again: not every node's agent was known yet. */
  record LookAgain() implements JobCoordinator.Local {}

  /** A node prepared for the job. */
  record Ready(Prepared prepared) implements JobCoordinator.Local {}

  /**
   * A node that joined the cluster while the job runs answered its Prepare ({@code prepared}
   * empty: it did not, and is asked again later).
   */
  record Joined(ActorRef<NodeAgent.Command> agent, Optional<Prepared> prepared) implements JobCoordinator.Local {}

  /** A node did not prepare; {@code passing}: the job may run when submitted again. */
  record NotReady(String reason, boolean passing) implements JobCoordinator.Local {}

  /** After a take-over, a node said where its ranks of the job are. */
  record Attached(NodeAgent.Attached attached) implements JobCoordinator.Local {}

  /** The final save is done (or failed: an empty cursor). */
  record Saved(CheckpointActor.Saved saved) implements JobCoordinator.Local {}

  /** The job's client is gone. */
  record ClientGone() implements JobCoordinator.Local {}

  /** A trainer host running the job's ranks is gone (left, or downed). */
  record HostLost(String node) implements JobCoordinator.Local {}

  /** Time to publish the running job's cursor in the node's status. */
  record Tick() implements JobCoordinator.Local {}

  /** The running job's cursor as its checkpoint actor has it (null: it did not answer). */
  record Current(String jobId, CheckpointActor.Saved saved) implements JobCoordinator.Local {}
}
