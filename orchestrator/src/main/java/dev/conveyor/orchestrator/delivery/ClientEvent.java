package dev.conveyor.orchestrator.delivery;

/**
 * What a job's client hears: its ranks' {@link RankReport}s and its coordinator's
 * {@code JobCoordinator.JobEvent}s (placed, adopted, finished, failed); the client's own
 * messages to itself too. The client's address in the cluster is an {@code ActorRef<ClientEvent>}.
 *
 * <p>Not sealed: its kinds are declared beside the actor that sends each (the coordinator's
 * package, this one, the client's), and Java seals only within one package.
 */
public interface ClientEvent {}
