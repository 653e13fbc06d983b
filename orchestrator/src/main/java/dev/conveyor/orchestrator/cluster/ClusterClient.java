package dev.conveyor.orchestrator.cluster;

import com.typesafe.config.Config;
import dev.conveyor.orchestrator.cluster.JobCoordinator.JobEvent;
import dev.conveyor.streams.cursor.Cursor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  /** What a cluster run delivered: batch digest lines in lockstep order, dead letters, counts, and the final cursor. */
  public record Outcome(List<String> digests, List<String> deadLetters, long batches, long samples, long leases,
                        long reassigned, List<String> trainerHosts, int readers, double seconds, String cursor) {}

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
      LinkedBlockingQueue<JobEvent> inbox = new LinkedBlockingQueue<>();
      ActorRef<JobEvent> client = system.systemActorOf(Behaviors.receive(JobEvent.class)
          .onAnyMessage(e -> {
            inbox.add(e);
            return Behaviors.same();
          }).build(), "cluster-client", Props.empty());
      ActorRef<JobCoordinator.Command> coordinator = ClusterNode.coordinator(system);
      long t0 = System.nanoTime();
      JobCoordinator.Placed placed = submit(coordinator, job, client, inbox, deadline, progress);
      progress.accept("ranks on " + placed.trainerHosts() + ", " + placed.readers() + " shard reader(s)");
      List<String> digests = new ArrayList<>();
      List<String> dead = new ArrayList<>();
      Map<Integer, Long> lastEpochBatches = new HashMap<>();
      long samples = 0;
      while (true) {
        JobEvent e = inbox.poll(idleTimeout.toMillis(), TimeUnit.MILLISECONDS);
        if (e == null) {
          throw new TimeoutException("the cluster reported nothing for " + idleTimeout.toSeconds() + " s");
        }
        if (e instanceof JobCoordinator.Failed f) {
          throw new IllegalStateException("the cluster job failed: " + f.reason());
        }
        if (e instanceof JobCoordinator.Finished f) {
          digests.sort(LOCKSTEP);
          Cursor c = Cursor.start(job.recipe().fingerprint(), job.world()).atEpoch(job.epochs() - 1, job.world());
          for (Map.Entry<Integer, Long> r : lastEpochBatches.entrySet()) {
            c = c.withDelivered(r.getKey(), r.getValue());
          }
          return new Outcome(digests, dead, digests.size(), samples, f.leases(), f.reassigned(), placed.trainerHosts(),
              placed.readers(), (System.nanoTime() - t0) / 1e9, c.encode());
        }
        if (e instanceof JobCoordinator.Progress p) {
          if (p.report() instanceof NodeAgent.BatchDone b) {
            digests.add(b.epoch() + " " + b.step() + " " + b.rank() + " " + b.bytesSha256() + " " + b.keysSha256());
            samples += b.samples();
            if (b.epoch() == job.epochs() - 1) {
              lastEpochBatches.merge(b.rank(), b.index() + 1, Math::max);
            }
          } else if (p.report() instanceof NodeAgent.SkipDone s) {
            dead.add(s.deadLetter());
          }
        }
      }
    } finally {
      // leave the cluster gracefully (leave, exit, then stop), so the nodes see a departure, not a failure
      CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.clusterLeavingReason())
          .toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(x -> null).join();
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(x -> null).join();
    }
  }

  /** Submits until the coordinator has placed the job (agents register with a delay after joining). */
  private static JobCoordinator.Placed submit(ActorRef<JobCoordinator.Command> coordinator, JobSpec job,
      ActorRef<JobEvent> client, LinkedBlockingQueue<JobEvent> inbox, long deadline, Consumer<String> progress)
      throws InterruptedException, TimeoutException {
    String last = "no answer from the job coordinator";
    while (System.nanoTime() < deadline + Duration.ofSeconds(30).toNanos()) {
      coordinator.tell(new JobCoordinator.Submit(job, client));
      JobEvent e = inbox.poll(10, TimeUnit.SECONDS);
      if (e instanceof JobCoordinator.Placed p) {
        return p;
      }
      if (e instanceof JobCoordinator.Failed f) {
        last = f.reason();
        progress.accept("not placed yet (" + last + "); trying again");
      }
      Thread.sleep(500);
    }
    throw new TimeoutException("the job was not placed: " + last);
  }
}
