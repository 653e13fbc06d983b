package dev.conveyor.orchestrator.client;

import com.typesafe.config.Config;
import dev.conveyor.config.Membership;
import dev.conveyor.orchestrator.coordinator.CoordinatorActor;
import dev.conveyor.orchestrator.coordinator.JobCoordinator;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.orchestrator.delivery.BadSampleException;
import dev.conveyor.orchestrator.delivery.ClientEvent;
import dev.conveyor.orchestrator.delivery.Delivery;
import dev.conveyor.orchestrator.delivery.RankReport;
import dev.conveyor.orchestrator.node.ClusterNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The client of a job, the same for every runtime: from a member of the cluster — a client
 * that joined a running cluster ({@code run --cluster}), or the one node of a process's own
 * cluster ({@code run}) — it submits the job to the coordinator, hands what the ranks report
 * to the job's {@link Delivery}, and follows the coordinator until the job ends.
 */
public final class ClusterClient {
  private ClusterClient() {}

  /**
   * How a job ran, beside what {@link Delivery} counted: leasing (leases, leased again after a
   * failure, handed back), the trainers' mean stall (share of their wall time) and total stall
   * seconds, where it ran, how long it took, the cursor it started from and the final one (as the
   * coordinator saved it), how many times the coordinator was taken over, full batches' leftovers. */
  public record Outcome(long leases, long reassigned, long handedBack, double stall, double stallSeconds,
                        List<String> trainerHosts, int readers, List<String> shares, double seconds, String start,
                        String cursor, boolean persisted, int takeovers, long leftOver) {}

  /** Tells the client actor to watch a coordinator (local only). */
  private record Watch(ActorRef<JobCoordinator.Command> coordinator)
      implements ClientEvent, NoSerializationVerificationNeeded {}

  /** The job has ended: the client actor stops (local only). */
  private enum Done implements ClientEvent, NoSerializationVerificationNeeded { INSTANCE }

  /** A watched coordinator is gone: its node left or was downed. */
  private record CoordinatorLost(ActorRef<JobCoordinator.Command> coordinator)
      implements ClientEvent, NoSerializationVerificationNeeded {}

  /** How long a client waits for the coordinator to confirm that a job with a failed rank was stopped. */
  private static final Duration FAILED_WAIT = Duration.ofSeconds(30);

  /** What a client's failure says when it was removed from the cluster (a retry of the same command goes on). */
  public static final String REMOVED = "this client was removed from the cluster";

  /** How long a stopped job's client waits for the ranks' last reports. */
  private static final Duration SETTLE = Duration.ofSeconds(10);

  /** How often the client asks again when an answer is late (a take-over, the final save). */
  private static final Duration ASK_AGAIN = Duration.ofSeconds(3);

  /**
   * A client member of the cluster at {@code seed} (it hosts nothing); it joins in the
   * background ({@link ClusterNode#awaitUp}). {@link #leave} it when done. It listens on
   * {@code conveyor.node.hostname} (127.0.0.1 unless set), where the nodes must reach it.
   */
  public static ActorSystem<Void> join(String seed, Config base) {
    String hostname = base.hasPath(HOSTNAME) ? base.getString(HOSTNAME) : "127.0.0.1";
    return ActorSystem.create(Behaviors.empty(), ClusterNode.SYSTEM,
        ClusterNode.pekko(hostname, 0, List.of(seed), List.of("client"), 7_000, Membership.SEEDED, base));
  }

  private static final String HOSTNAME = "conveyor.node.hostname";

  /** Leaves the cluster gracefully (leave, exit, then stop), so the nodes see a departure, not a failure. */
  public static void leave(ActorSystem<?> system) {
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.clusterLeavingReason())
        .toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(x -> null).join();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(x -> null).join();
  }

  /**
   * Runs {@code job} on the cluster {@code system} is a member of: submits it (placed within
   * {@code placeTimeout}), hands the ranks' reports to {@code delivery} until every rank is done
   * and the coordinator saved the cursor. Fails when the job fails or nothing arrives for
   * {@code idleTimeout}; when {@code delivery} stops the job for bad data, the coordinator stops
   * the ranks and saves the cursor, and the {@link BadSampleException} is thrown. With
   * {@code announce}, {@code progress} hears where the job was placed.
   */
  public static Outcome run(ActorSystem<?> system, JobSpec job, Delivery delivery, Consumer<String> progress,
                            boolean announce, Duration placeTimeout, Duration idleTimeout)
      throws InterruptedException, TimeoutException {
    LinkedBlockingQueue<ClientEvent> inbox = new LinkedBlockingQueue<>();
    ActorRef<ClientEvent> client = system.systemActorOf(Behaviors.setup(ctx -> new Inbox(ctx, inbox)),
        "job-client-" + CLIENTS.incrementAndGet(), Props.empty());
    try {
      ActorRef<JobCoordinator.Command> proxy = CoordinatorActor.proxy(system);
      long t0 = System.nanoTime();
      JobCoordinator.Placed placed = submit(proxy, job, client, inbox, System.nanoTime() + placeTimeout.toNanos(), progress);
      if (announce) {
        progress.accept("ranks on " + placed.trainerHosts() + ", " + placed.readers() + " shard reader(s), shares "
            + placed.shares() + (job.resume().isEmpty() ? "" : ", from cursor " + placed.start()));
      }
      return gather(system, job, placed, client, proxy, inbox, delivery, progress, idleTimeout, t0);
    } finally {
      client.tell(Done.INSTANCE);
    }
  }

  /**
   * The client's address in the cluster: what the coordinator and the ranks send the job's
   * client goes into {@code inbox}, which the calling thread drains ({@link #gather}); it watches
   * the coordinator it is told to and says when that one is gone.
   */
  private static final class Inbox extends AbstractBehavior<ClientEvent> {
    private final LinkedBlockingQueue<ClientEvent> inbox;

    Inbox(ActorContext<ClientEvent> ctx, LinkedBlockingQueue<ClientEvent> inbox) {
      super(ctx);
      this.inbox = inbox;
    }

    @Override
    public Receive<ClientEvent> createReceive() {
      return newReceiveBuilder()
          .onMessage(Watch.class, this::onWatch)
          .onMessage(Done.class, d -> Behaviors.stopped())
          .onAnyMessage(this::onReport)
          .build();
    }

    private Behavior<ClientEvent> onWatch(Watch w) {
      getContext().watchWith(w.coordinator(), new CoordinatorLost(w.coordinator()));
      return this;
    }

    private Behavior<ClientEvent> onReport(ClientEvent e) {
      inbox.add(e);
      return this;
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger CLIENTS = new java.util.concurrent.atomic.AtomicInteger();

  /** The ranks' reports until the job ends; a lost coordinator is replaced on the way. */
  private static Outcome gather(ActorSystem<?> system, JobSpec job, JobCoordinator.Placed placed,
                                ActorRef<ClientEvent> client, ActorRef<JobCoordinator.Command> proxy,
                                LinkedBlockingQueue<ClientEvent> inbox,
                                Delivery delivery, Consumer<String> progress, Duration idleTimeout, long t0)
      throws InterruptedException, TimeoutException {
    ActorRef<JobCoordinator.Command> coordinator = placed.coordinator();
    client.tell(new Watch(coordinator));
    Set<Integer> ranksDone = new HashSet<>();
    List<RankReport.RankDone> ends = new ArrayList<>();
    String failure = null;
    int takeovers = 0;
    boolean adopting = false;
    boolean finishing = false;
    JobCoordinator.Finished finished = null;
    long failedAt = 0;
    long lastEvent = System.nanoTime();
    long lastAsk = 0;
    while (true) {
      ClientEvent e = inbox.poll(500, TimeUnit.MILLISECONDS);
      long now = System.nanoTime();
      if (e == null && system.whenTerminated().isCompleted()) {
        // downed (the split-brain resolver downs every member when reachability will not settle)
        // or shut down: nothing more can come; the coordinator saved the cursor as it went
        throw new IllegalStateException("the cluster job failed: " + REMOVED + " (downed, or the cluster is gone); run"
            + " the same command again with --resume-or-start to go on from the last saved cursor");
      }
      if (e == null) {
        if (now - lastEvent > idleTimeout.toNanos()) {
          throw new TimeoutException("the cluster reported nothing for " + idleTimeout.toSeconds() + " s");
        }
      } else {
        lastEvent = now;
      }
      try {
        if (e instanceof RankReport.RankDone d) {
          ranksDone.add(d.rank());
          ends.add(d);
          delivery.rankEnded(d.rank());
        } else if (e instanceof RankReport.RankFailed f) {
          failure = failure != null ? failure : "rank " + f.rank() + ": " + f.reason();
          ranksDone.add(f.rank());
          delivery.rankEnded(f.rank()); // no more of its batches: the others' are not held for them
        } else if (e instanceof RankReport r) {
          delivery.report(r);
        }
      } catch (BadSampleException bad) {
        throw cancel(job, coordinator, inbox, bad, progress);
      }
      if (e instanceof CoordinatorLost lost && lost.coordinator().equals(coordinator)) {
        progress.accept("the job coordinator (" + coordinator.path().address() + ") is gone; asking its successor"
            + " to take the job over");
        adopting = true;
        lastAsk = 0;
      } else if (e instanceof JobCoordinator.Adopted a) {
        if (adopting) {
          takeovers++;
          progress.accept("the coordinator on " + a.node() + " took the job over, going on from "
              + (a.fromCheckpoint() ? "the last saved cursor " : "the job's start cursor ") + a.recovered()
              + " and the ranks' reports");
        }
        adopting = false;
        coordinator = a.coordinator();
        client.tell(new Watch(coordinator));
        lastAsk = 0;
      } else if (e instanceof JobCoordinator.Finished f) {
        finished = f; // it may overtake the last ranks' reports: they come from their nodes
      }
      if (finished != null && ranksDone.size() == job.ranks().size()) {
        if (failure != null) {
          throw new IllegalStateException("the cluster job failed: " + failure + " (cursor saved: " + finished.cursor() + ")");
        }
        return outcome(placed, ends, (System.nanoTime() - t0) / 1e9, finished, takeovers);
      }
      if (e instanceof JobCoordinator.Failed f) {
        settle(job, inbox, delivery, ranksDone);
        throw new IllegalStateException("the cluster job failed: " + f.reason());
      }
      // a failed rank: its node tells the coordinator, which stops the job, saves the cursor and
      // says so (Failed); should that not come (the coordinator was being replaced), fail anyway
      if (failure != null && failedAt == 0) {
        failedAt = now;
      }
      if (failure != null && now - failedAt > FAILED_WAIT.toNanos()) {
        throw new IllegalStateException("the cluster job failed: " + failure + " (the coordinator did not confirm; the"
            + " cursor may not be saved)");
      }
      finishing = finishing || ranksDone.size() == job.ranks().size();
      if (now - lastAsk > ASK_AGAIN.toNanos() && (adopting || finishing)) {
        lastAsk = now;
        if (adopting) {
          proxy.tell(new JobCoordinator.Adopt(job, client));
        } else {
          coordinator.tell(new JobCoordinator.Finish(job.id()));
        }
      }
    }
  }

  /**
   * The job was stopped: the ranks' last reports, which the saved cursor counts, are taken (each
   * rank's end follows its reports) for up to {@link #SETTLE}, and whatever is accounted so far
   * is written, so that the outputs say what the trainers took.
   */
  private static void settle(JobSpec job, LinkedBlockingQueue<ClientEvent> inbox, Delivery delivery,
                             Set<Integer> ranksDone) throws InterruptedException {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (ranksDone.size() < job.ranks().size() && System.nanoTime() < deadline) {
      ClientEvent e = inbox.poll(100, TimeUnit.MILLISECONDS);
      try {
        if (e instanceof RankReport.RankDone d) {
          ranksDone.add(d.rank());
          delivery.rankEnded(d.rank());
        } else if (e instanceof RankReport.RankFailed f) {
          ranksDone.add(f.rank());
          delivery.rankEnded(f.rank());
        } else if (e instanceof RankReport r) {
          delivery.report(r);
        }
      } catch (BadSampleException bad) {
        // over the bound as it stopped: the failure already says why the job ended
      }
    }
    for (int rank : job.ranks()) {
      if (ranksDone.add(rank)) {
        delivery.rankEnded(rank);
      }
    }
  }

  private static Outcome outcome(JobCoordinator.Placed placed, List<RankReport.RankDone> ends, double seconds,
                                 JobCoordinator.Finished f, int takeovers) {
    long leases = 0;
    long reassigned = 0;
    long handedBack = 0;
    double stall = 0;
    double stallSeconds = 0;
    for (RankReport.RankDone d : ends) {
      leases += d.leases();
      reassigned += d.reassigned();
      handedBack += d.handedBack();
      stall += d.stall() / ends.size();
      stallSeconds += d.stallSeconds();
    }
    return new Outcome(leases, reassigned, handedBack, stall, stallSeconds, placed.trainerHosts(), placed.readers(),
        placed.shares(), seconds, placed.start(), f.cursor(), f.persisted(), takeovers,
        ends.stream().mapToLong(RankReport.RankDone::leftOver).sum());
  }

  /**
   * The job's data is over its bad-sample bound: has the coordinator stop the ranks and save
   * the cursor (waiting for its answer up to {@link #FAILED_WAIT}), and returns {@code bad} to throw.
   */
  private static BadSampleException cancel(JobSpec job, ActorRef<JobCoordinator.Command> coordinator,
                                           LinkedBlockingQueue<ClientEvent> inbox, BadSampleException bad,
                                           Consumer<String> progress) throws InterruptedException {
    coordinator.tell(new JobCoordinator.Cancel(job.id(), bad.getMessage()));
    long deadline = System.nanoTime() + FAILED_WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      ClientEvent e = inbox.poll(200, TimeUnit.MILLISECONDS);
      if (e instanceof JobCoordinator.Failed || e instanceof JobCoordinator.Finished) {
        return bad;
      }
    }
    progress.accept("the coordinator did not confirm that the job stopped; the cursor may not be saved");
    return bad;
  }

  /** Submits until the coordinator has placed the job (agents register with a delay after joining). */
  private static JobCoordinator.Placed submit(ActorRef<JobCoordinator.Command> coordinator, JobSpec job,
      ActorRef<ClientEvent> client, LinkedBlockingQueue<ClientEvent> inbox, long deadline, Consumer<String> progress)
      throws InterruptedException, TimeoutException {
    String last = "no answer from the job coordinator";
    while (System.nanoTime() < deadline + Duration.ofSeconds(30).toNanos()) {
      coordinator.tell(new JobCoordinator.Submit(job, client));
      ClientEvent e = inbox.poll(10, TimeUnit.SECONDS);
      if (e instanceof JobCoordinator.Placed p) {
        p.notes().forEach(progress);
        return p;
      } else if (e instanceof JobCoordinator.Unplaceable u) { // a configuration error: exit 2
        throw new dev.conveyor.config.SettingsException(dev.conveyor.config.PoolSettings.POOLS, u.reason());
      } else if (e instanceof JobCoordinator.Failed f) {
        if (!f.passing()) {
          throw new IllegalStateException("the cluster refused the job: " + f.reason());
        }
        last = f.reason();
        progress.accept("not placed yet (" + last + "); trying again");
      }
      Thread.sleep(500);
    }
    throw new TimeoutException("the job was not placed: " + last);
  }
}
