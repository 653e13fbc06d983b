package dev.conveyor.sim.scenario;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A fault scenario: how many nodes, the job they run, the faults a nemesis applies and when,
 * and what the job's exit code must be. Read from HOCON by {@link ScenarioFile}.
 *
 * @param name      the file's name without {@code .conf}
 * @param nodes     node processes: node 1 is the trainer host (the ranks live there), node 2 the
 *                  oldest worker (the coordinator runs on it), nodes 3… more workers
 * @param faults    the faults listed in the file, in file order
 * @param random    faults drawn at random besides them
 * @param expectExit the exit code the job's last run must end with
 * @param tls       the cluster runs with mutual TLS (certificates made with {@code conveyor certs})
 */
public record Scenario(String name, String description, int nodes, Job job, List<Fault> faults,
                       Optional<RandomFaults> random, int expectExit, boolean tls) {
  public Scenario {
    requireNonNull(name, "name is null");
    faults = List.copyOf(faults);
  }

  /**
   * The job: a synthetic dataset the simulation makes and serves from the embedded S3 server,
   * or a job file of the user's (then {@code jobFile} is set and the dataset fields are unused).
   */
  public record Job(int shards, int samples, int world, int batchSize, int epochs, String decode, long seed,
                    int checkpointEvery, Duration trainerStep, Optional<Path> jobFile) {}

  /**
   * When a fault happens: once {@code batch} batches were delivered in all, {@code after} since
   * the job began, or once run {@code afterRun} of the job has ended (before the next one resumes).
   */
  public record Trigger(long batch, Duration after, int afterRun) {
    public static Trigger atBatch(long n) {
      return new Trigger(n, null, 0);
    }

    public static Trigger after(Duration d) {
      return new Trigger(-1, d, 0);
    }

    public static Trigger afterRun(int run) {
      return new Trigger(-1, null, run);
    }

    public boolean byBatch() {
      return batch >= 0;
    }

    public boolean byRun() {
      return afterRun > 0;
    }

    @Override
    public String toString() {
      return byBatch() ? "batch " + batch : byRun() ? "the end of run " + afterRun : after.toMillis() + "ms";
    }
  }

  /**
   * One fault. {@code node} is 0 when none is named; {@code duration} ({@code for}) is how long
   * it lasts before the nemesis undoes it (SIGCONT, heal, restart, the S3 proxy back to normal),
   * or null for "until another fault undoes it".
   */
  public record Fault(Trigger at, Action action, int node, Duration duration, double rate, Duration latency,
                      Duration stall, String how) {
    /** "kill node 3 at batch 40 for 2s" */
    public String describe() {
      return action.id() + (node > 0 ? " node " + node : "") + " at " + at
          + (duration == null ? "" : " for " + duration.toMillis() + "ms")
          + (action.s3() && action != Action.S3_LATENCY ? " rate " + rate : "")
          + (action == Action.S3_LATENCY ? " latency " + latency.toMillis() + "ms" : "")
          + (action == Action.TEAR_CHECKPOINT ? " (" + how + ")" : "");
    }
  }

  /**
   * {@code count} faults drawn from {@code actions} with {@code seed}, at batches in
   * [{@code from}, {@code to}), one in each equal stretch of it, on workers (never the trainer
   * host), each lasting {@code duration}.
   */
  public record RandomFaults(int count, long seed, List<Action> actions, long from, long to, Duration duration) {}

  /**
   * The faults to apply: the listed ones, and the random ones drawn with {@code seed} (the
   * file's when empty), sorted by batch (time triggers after, in file order). The same seed
   * draws the same faults.
   */
  public List<Fault> schedule(Optional<Long> seed) {
    List<Fault> all = new ArrayList<>(faults);
    random.ifPresent(r -> all.addAll(draw(r, seed.orElse(r.seed()))));
    all.sort(Comparator.comparingLong((Fault f) -> f.at().byBatch() ? f.at().batch() : Long.MAX_VALUE));
    return all;
  }

  private List<Fault> draw(RandomFaults r, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Fault> out = new ArrayList<>();
    long span = Math.max(1, (r.to() - r.from()) / Math.max(1, r.count()));
    for (int i = 0; i < r.count(); i++) {
      // one fault per stretch of the window, so that each has its stretch to itself
      long at = r.from() + i * span + rnd.nextLong(Math.max(1, span / 2));
      Action a = r.actions().get(rnd.nextInt(r.actions().size()));
      int node = a.needsNode ? 2 + rnd.nextInt(nodes - 1) : 0;
      // each lasts the window's `for`: a killed or stopped worker comes back, an S3 storm ends
      out.add(new Fault(Trigger.atBatch(at), a, node, r.duration(), 0.3, Duration.ofMillis(200), Duration.ofSeconds(2),
          "cut"));
    }
    return out;
  }
}
