package dev.conveyor.orchestrator.cluster;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;

/**
 * {@code run --cluster}: joins a running cluster as a client (it hosts nothing), submits a job
 * to the coordinator, and gathers what the ranks report until the job ends.
 */
public final class ClusterClient {
  /** Digest lines ({@code epoch step rank …}) in lockstep order, as a single-process run writes them. */
  public static final Comparator<String> LOCKSTEP = Comparator.comparing((String l) -> Long.parseLong(l.split(" ")[0]))
      .thenComparing(l -> Long.parseLong(l.split(" ")[1]))
      .thenComparing(l -> Long.parseLong(l.split(" ")[2]));

  private ClusterClient() {}

  /**
   * What a cluster run delivered: batch digest lines in lockstep order, dead letters, counts, the
   * cursor it started from and the final one (as the coordinator saved it), and how many times
   * the coordinator was taken over.
   */
  public record Outcome(List<String> digests, List<String> keys, List<String> deadLetters, long batches, long samples,
                        long bytes, long leases, long reassigned, long handedBack, List<String> trainerHosts, int readers,
                        List<String> shares, double seconds, String start, String cursor, boolean persisted,
                        int takeovers) {}

  /** Key lines ({@code epoch rank step key}) in lockstep order; a batch's keys keep their order (the sort is stable). */
  public static final Comparator<String> KEYS_LOCKSTEP = Comparator.comparing((String l) -> Long.parseLong(l.split(" ")[0]))
      .thenComparing(l -> Long.parseLong(l.split(" ")[2]))
      .thenComparing(l -> Long.parseLong(l.split(" ")[1]));

  /** Tells the client actor to watch a coordinator (local only). */
  private record Watch(ActorRef<JobCoordinator.Command> coordinator) implements NoSerializationVerificationNeeded {}

  /** A watched coordinator is gone: its node left or was downed. */
  private record CoordinatorLost(ActorRef<JobCoordinator.Command> coordinator)
      implements NoSerializationVerificationNeeded {}

  /** How long a client waits for the coordinator to confirm that a job with a failed rank was stopped. */
  private static final Duration FAILED_WAIT = Duration.ofSeconds(30);

  /** How often the client asks again when an answer is late (a take-over, the final save). */
  private static final Duration ASK_AGAIN = Duration.ofSeconds(3);

  /**
   * Joins the cluster at {@code seed} (within {@code joinTimeout}), runs {@code job}, and gathers
   * what its ranks report until every rank is done and the coordinator saved the cursor. Fails
   * when the job fails or nothing arrives for {@code idleTimeout}.
   */
  public static Outcome run(String seed, JobSpec job, Config base, Consumer<String> progress, Duration joinTimeout,
                            Duration idleTimeout) throws InterruptedException, TimeoutException {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterNode.SYSTEM,
        ClusterNode.pekko("127.0.0.1", 0, List.of(seed), List.of("client"), 7_000, base));
    try {
      Cluster cluster = Cluster.get(system);
      long deadline = System.nanoTime() + joinTimeout.toNanos();
      while (cluster.selfMember().status() != MemberStatus.up()) {
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("could not join the cluster at " + seed + " within " + joinTimeout.toSeconds()
              + " s (is a node running there? bin/conveyor node NODE.conf)");
        }
        Thread.sleep(50);
      }
      LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
      ActorRef<Object> client = system.systemActorOf(Behaviors.setup(ctx -> Behaviors.receive(Object.class)
          .onMessage(Watch.class, w -> {
            ctx.watchWith(w.coordinator(), new CoordinatorLost(w.coordinator()));
            return Behaviors.same();
          })
          .onAnyMessage(e -> {
            inbox.add(e);
            return Behaviors.same();
          }).build()), "cluster-client", Props.empty());
      ActorRef<JobCoordinator.Command> proxy = ClusterNode.coordinatorProxy(system);
      long t0 = System.nanoTime();
      JobCoordinator.Placed placed = submit(proxy, job, client, inbox, deadline, progress);
      progress.accept("ranks on " + placed.trainerHosts() + ", " + placed.readers() + " shard reader(s), shares "
          + placed.shares()
          + (job.resume().isEmpty() ? "" : ", from cursor " + placed.start()));
      return gather(job, placed, client, proxy, inbox, progress, idleTimeout, t0);
    } finally {
      // leave the cluster gracefully (leave, exit, then stop), so the nodes see a departure, not a failure
      CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.clusterLeavingReason())
          .toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(x -> null).join();
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(x -> null).join();
    }
  }

  /** The ranks' reports until the job ends; a lost coordinator is replaced on the way. */
  private static Outcome gather(JobSpec job, JobCoordinator.Placed placed, ActorRef<Object> client,
                                ActorRef<JobCoordinator.Command> proxy, LinkedBlockingQueue<Object> inbox,
                                Consumer<String> progress, Duration idleTimeout, long t0)
      throws InterruptedException, TimeoutException {
    ActorRef<JobCoordinator.Command> coordinator = placed.coordinator();
    client.tell(new Watch(coordinator));
    List<String> digests = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    List<NodeAgent.SkipDone> skips = new ArrayList<>();
    long bytes = 0;
    long batches = 0;
    Set<Integer> ranksDone = new HashSet<>();
    String failure = null;
    long samples = 0;
    long leases = 0;
    long reassigned = 0;
    long handedBack = 0;
    int takeovers = 0;
    boolean adopting = false;
    boolean finishing = false;
    JobCoordinator.Finished finished = null;
    long failedAt = 0;
    long lastEvent = System.nanoTime();
    long lastAsk = 0;
    while (true) {
      Object e = inbox.poll(500, TimeUnit.MILLISECONDS);
      long now = System.nanoTime();
      if (e == null) {
        if (now - lastEvent > idleTimeout.toNanos()) {
          throw new TimeoutException("the cluster reported nothing for " + idleTimeout.toSeconds() + " s");
        }
      } else {
        lastEvent = now;
      }
      if (e instanceof NodeAgent.BatchDone b) {
        batches++;
        if (job.digests()) {
          digests.add(b.epoch() + " " + b.step() + " " + b.rank() + " " + b.bytesSha256() + " " + b.keysSha256());
        }
        samples += b.samples();
        bytes += b.bytes();
        for (String k : b.keys()) {
          keys.add(b.epoch() + " " + b.rank() + " " + b.step() + " " + k);
        }
      } else if (e instanceof NodeAgent.SkipDone s) {
        skips.add(s);
      } else if (e instanceof NodeAgent.RankDone d) {
        ranksDone.add(d.rank());
        leases += d.leases();
        reassigned += d.reassigned();
        handedBack += d.handedBack();
      } else if (e instanceof NodeAgent.RankFailed f) {
        failure = failure != null ? failure : "rank " + f.rank() + ": " + f.reason();
        ranksDone.add(f.rank());
      } else if (e instanceof CoordinatorLost lost && lost.coordinator().equals(coordinator)) {
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
      if (finished != null && ranksDone.size() == job.world()) {
        JobCoordinator.Finished f = finished;
        if (failure != null) {
          throw new IllegalStateException("the cluster job failed: " + failure + " (cursor saved: " + f.cursor() + ")");
        }
        digests.sort(LOCKSTEP);
        keys.sort(KEYS_LOCKSTEP);
        // dead letters in lockstep order too (a rank's own stay in their order: the sort is stable)
        skips.sort(Comparator.comparingInt(NodeAgent.SkipDone::epoch).thenComparingLong(NodeAgent.SkipDone::step)
            .thenComparingInt(NodeAgent.SkipDone::rank));
        List<String> dead = skips.stream().map(NodeAgent.SkipDone::deadLetter).toList();
        return new Outcome(digests, keys, dead, batches, samples, bytes, leases, reassigned, handedBack,
            placed.trainerHosts(), placed.readers(), placed.shares(), (System.nanoTime() - t0) / 1e9, placed.start(),
            f.cursor(), f.persisted(), takeovers);
      }
      if (e instanceof JobCoordinator.Failed f) {
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
      finishing = finishing || ranksDone.size() == job.world();
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

  /** Submits until the coordinator has placed the job (agents register with a delay after joining). */
  private static JobCoordinator.Placed submit(ActorRef<JobCoordinator.Command> coordinator, JobSpec job,
      ActorRef<Object> client, LinkedBlockingQueue<Object> inbox, long deadline, Consumer<String> progress)
      throws InterruptedException, TimeoutException {
    String last = "no answer from the job coordinator";
    while (System.nanoTime() < deadline + Duration.ofSeconds(30).toNanos()) {
      coordinator.tell(new JobCoordinator.Submit(job, client));
      Object e = inbox.poll(10, TimeUnit.SECONDS);
      if (e instanceof JobCoordinator.Placed p) {
        return p;
      }
      if (e instanceof JobCoordinator.Failed f) {
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
