package dev.conveyor.sim.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.S3Settings;
import dev.conveyor.sim.check.Checker;
import dev.conveyor.sim.check.Verdict;
import dev.conveyor.sim.faults.FaultPlan;
import dev.conveyor.sim.faults.FaultProxy;
import dev.conveyor.sim.history.Event;
import dev.conveyor.sim.history.History;
import dev.conveyor.sim.nemesis.Certs;
import dev.conveyor.sim.nemesis.LatestCursor;
import dev.conveyor.sim.nemesis.Nemesis;
import dev.conveyor.sim.scenario.Action;
import dev.conveyor.sim.report.Report;
import dev.conveyor.sim.scenario.Scenario;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.tools.s3.EmbeddedS3;
import dev.conveyor.tools.datagen.DatasetGenerator;
import dev.conveyor.tools.datagen.DatasetSpec;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One simulation: the scenario's dataset on the embedded S3 server, a fault-free reference run
 * of its job in one process, then its nodes as {@code conveyor node} processes (reading S3
 * through the fault proxy) running the job submitted by {@code conveyor run --cluster} while the
 * {@link Nemesis} applies the faults; a run that ends because the trainer host went down (or its
 * client was removed from the cluster, the split-brain resolver downing every member) is run
 * again, the same command ({@code --resume-or-start}), once the host is back, as a Kubernetes Job
 * retries its pod: it goes on from the newest good cursor. Everything it saw
 * goes into the history, which the {@link Checker} judges; {@code out} gets history.jsonl,
 * reference.jsonl, verdict.json and report.html with its timeline.
 */
public final class Simulation {
  /** Runs of the job at most: the first and the resumes after the trainer host went down (or its client was removed). */
  static final int MAX_RUNS = 6;
  /** A run of the job that takes longer than this, beyond 3 times its trainers' steps, is stopped and counts as failed. */
  static final long RUN_TIMEOUT_S = 600;
  private static final String BUCKET = "sim";

  /**
   * How to run: the command that starts this CLI (java, its options, class path, main class), the
   * output folder, the random nemesis's seed (instead of the scenario's), where progress lines go,
   * and {@code namespaces}: false keeps every node on 127.0.0.1 even where network namespaces could
   * be made (a partition is then not applied).
   */
  public record Options(List<String> conveyor, Path out, Optional<Long> seed, Consumer<String> say, boolean namespaces) {}

  /** What the simulation found, and how long it took. */
  public record Outcome(Verdict verdict, History history, double seconds) {}

  private final Scenario scenario;
  private final Options options;
  private final List<Event> events = Collections.synchronizedList(new ArrayList<>());
  private volatile long t0;

  private Simulation(Scenario scenario, Options options) {
    this.scenario = scenario;
    this.options = options;
  }

  public static Outcome run(Scenario scenario, Options options) throws Exception {
    return new Simulation(scenario, options).run();
  }

  private Outcome run() throws Exception {
    long start = System.nanoTime();
    Path out = OutputDir.prepare(options.out());
    Consumer<String> say = options.say();
    try (Network network = network(say);
         EmbeddedS3 server = EmbeddedS3.start(out.resolve("s3"), 0);
         FaultProxy proxy = FaultProxy.start(jobFileS3().map(c -> URI.create(c.getString("endpoint")))
             .orElse(server.endpoint()), FaultPlan.none(),
             InetAddress.getByName(network.simAddress()))) {
      List<String> recipe = recipe(server, out);
      // the reference runs while the nodes start: neither needs the other
      say.accept("reference: the job in one process, no faults; meanwhile the nodes start");
      Path refDir = out.resolve("reference");
      Process ref = JobRuns.start(command("run", recipe, JobRuns.outputs(refDir)), refDir);
      String s3 = nodeS3(proxy);
      Optional<Certs> certs = Optional.empty();
      if (scenario.tls()) {
        say.accept("certificates: a CA and the members' store, with conveyor certs (mutual TLS between the nodes)");
        certs = Optional.of(Certs.make(options.conveyor(), out.resolve("certs")));
        s3 = s3 + "\n" + certs.get().settings();
      }
      // the trainer host's stand-in trainers stop where faults are timed by batch (POST /hold)
      String host = "simulated-trainer-step = " + scenario.job().trainerStep().toMillis() + "ms, "
          + "simulation-controls = true, ";
      try {
        try (Nodes nodes = new Nodes(options.conveyor(), network, out, scenario.nodes(), s3, host,
            certs.map(Certs::env).orElse(Map.of()))) {
          say.accept("starting " + scenario.nodes() + " nodes (node 1: trainer host; node 2: coordinator's worker)"
              + (network.address(1).equals("127.0.0.1") ? "" : " in network namespaces, " + network.address(1) + "…"));
          nodes.startAll();
          History reference = reference(ref, refDir);
          reference.write(out.resolve("reference.jsonl"));
          say.accept(String.format(Locale.ROOT, "reference: %d batches, cursor %s", reference.of(Event.Batch.class).size(),
              reference.of(Event.Attempt.class).get(0).cursor()));
          runJob(nodes, proxy, network, certs, recipe, out);
        }
      } finally {
        ref.destroyForcibly(); // gone already, unless the nodes failed to start
      }
    }
    History history = new History(events);
    history.write(out.resolve("history.jsonl"));
    History reference = History.read(out.resolve("reference.jsonl"));
    Verdict verdict = Checker.check(history, reference, scenario.expectExit());
    Files.writeString(out.resolve("verdict.json"), Json.pretty(verdict.toJson()) + "\n", StandardCharsets.UTF_8);
    double seconds = (System.nanoTime() - start) / 1e9;
    Report.write(out, scenario, history, reference, verdict, seconds);
    return new Outcome(verdict, history, seconds);
  }

  /**
   * The nodes' S3 settings: through the proxy to the embedded server, or to the endpoint the job
   * file names (with its credentials); a job file naming none: its settings as they are.
   */
  private String nodeS3(FaultProxy proxy) {
    if (scenario.job().jobFile().isEmpty()) {
      return "conveyor.s3 { endpoint = \"" + proxy.endpoint() + "\", access-key-id = \"" + EmbeddedS3.ACCESS_KEY_ID
          + "\", secret-access-key = \"" + EmbeddedS3.SECRET_ACCESS_KEY + "\" }";
    }
    Config file = ConfigFactory.parseFile(scenario.job().jobFile().get().toFile()).resolve();
    if (!file.hasPath("conveyor.s3")) {
      return "";
    }
    Config s3 = file.getConfig("conveyor.s3");
    if (jobFileS3().isPresent()) {
      s3 = s3.withValue("endpoint", ConfigValueFactory.fromAnyRef(proxy.endpoint().toString()));
    }
    return "conveyor.s3 = " + s3.root().render(ConfigRenderOptions.concise());
  }

  /** The {@code conveyor.s3} settings of the scenario's job file, when it names an endpoint (the proxy then fronts it). */
  private Optional<Config> jobFileS3() {
    return scenario.job().jobFile().map(f -> ConfigFactory.parseFile(f.toFile()).resolve())
        .filter(c -> c.hasPath("conveyor.s3.endpoint") && !c.getString("conveyor.s3.endpoint").isBlank())
        .map(c -> c.getConfig("conveyor.s3"));
  }

  /** Why S3 faults cannot be applied to this scenario's job ("" when they can). */
  private String s3Unavailable() {
    return scenario.job().jobFile().isPresent() && jobFileS3().isEmpty()
        ? "the job file names no conveyor.s3.endpoint for the fault proxy to stand in front of" : "";
  }

  /** The recipe's flags for {@code conveyor run}; makes the dataset when the scenario describes one. */
  private List<String> recipe(EmbeddedS3 server, Path out) throws Exception {
    Scenario.Job job = scenario.job();
    if (job.jobFile().isPresent()) {
      return List.of(job.jobFile().get().toString());
    }
    options.say().accept(String.format(Locale.ROOT, "dataset: %d samples in %d shards on the embedded S3 server",
        job.samples(), job.shards()));
    try (S3ShardStore store = new S3ShardStore(server.settings(S3Settings.fromConfig(ConfigFactory.defaultReference())))) {
      store.ensureBucket(BUCKET).toCompletableFuture().join();
      int perShard = (job.samples() + job.shards() - 1) / job.shards();
      new DatasetGenerator(store, out.resolve("scratch"), 2).generate(new DatasetSpec(job.samples(), 0, Long.MAX_VALUE,
          job.seed()), URI.create("s3://" + BUCKET + "/data"), perShard, n -> { });
    }
    return List.of("--shards", "s3://" + BUCKET + "/data/shards.json", "--world",
        String.valueOf(job.world()), "--epochs", String.valueOf(job.epochs()), "--batch-size", String.valueOf(job.batchSize()),
        "--seed", String.valueOf(job.seed()), "--decode", job.decode(),
        "--set", "conveyor.job.checkpoint-every=" + job.checkpointEvery(),
        "--set", "conveyor.s3.endpoint=" + server.endpoint(),
        "--set", "conveyor.s3.access-key-id=" + EmbeddedS3.ACCESS_KEY_ID,
        "--set", "conveyor.s3.secret-access-key=" + EmbeddedS3.SECRET_ACCESS_KEY);
  }

  /** The history of the reference run {@code p}, writing into {@code dir}, once it is done. */
  private History reference(Process p, Path dir) throws Exception {
    int exit = await(p);
    if (exit != 0) {
      throw new IllegalStateException("the fault-free reference run failed (exit " + exit + "): "
          + JobRuns.read(dir.resolve("stderr.txt")).lines().reduce((a, b) -> b).orElse("") + " (see " + dir + ")");
    }
    return new History(JobRuns.events(1, dir, 0, "", exit, false));
  }

  private List<String> command(String verb, List<String> recipe, List<String> more) {
    List<String> cmd = new ArrayList<>(options.conveyor());
    cmd.add(verb);
    cmd.addAll(recipe);
    cmd.addAll(more);
    return cmd;
  }

  /** How long a run may take: {@link #RUN_TIMEOUT_S} beyond 3 times what its stand-in trainers' steps alone take. */
  private long runTimeoutSeconds() {
    Scenario.Job j = scenario.job();
    long perRank = j.world() * j.batchSize() == 0 ? 0 : (long) j.epochs() * j.samples() / ((long) j.world() * j.batchSize());
    return RUN_TIMEOUT_S + 3 * perRank * j.trainerStep().toMillis() / 1000;
  }

  private int await(Process p) throws InterruptedException {
    if (!p.waitFor(runTimeoutSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      return -1;
    }
    return p.exitValue();
  }

  long now() {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private void record(Event e) {
    events.add(e);
    if (e instanceof Event.Fault f) {
      options.say().accept(String.format(Locale.ROOT, "[%6.1f s] %s: %s%s", f.t() / 1000.0, f.fault(),
          f.applied() ? "applied" : "NOT APPLIED", f.detail().isEmpty() ? "" : " (" + f.detail() + ")"));
    }
  }

  /**
   * The nodes on 127.0.0.1, or — when the scenario cuts nodes off — each in a network namespace
   * of its own where the machine allows it; where it does not, partitions are not applied and
   * the verdict says so.
   */
  private Network network(Consumer<String> say) {
    boolean cuts = scenario.schedule(options.seed()).stream().anyMatch(f -> f.action() == Action.PARTITION);
    if (!cuts) {
      return Network.loopback("this scenario cuts no node off");
    }
    Network n = options.namespaces() ? Netns.create(scenario.nodes(), "not applied")
        : Network.loopback("not applied: the simulation was run with --no-namespaces");
    if (n.address(1).equals("127.0.0.1")) {
      say.accept("partitions will not be applied: " + n.partitions().why());
    }
    return n;
  }

  private void runJob(Nodes nodes, FaultProxy proxy, Network network, Optional<Certs> certs, List<String> recipe, Path out)
      throws Exception {
    Path checkpoints = out.resolve("checkpoints");
    t0 = System.nanoTime();
    Progress progress = new Progress(nodes, this::now, this::record);
    progress.start();
    try (Nemesis nemesis = new Nemesis(scenario.schedule(options.seed()), nodes, proxy, s3Unavailable(), checkpoints,
        network.partitions(), certs, this::now, this::record);
         Respawn respawn = new Respawn(nodes, nemesis, this::now, this::record)) {
      Holds holds = new Holds(nodes, scenario.schedule(options.seed()));
      String lastCheckpoint = "";
      for (int attempt = 1; attempt <= MAX_RUNS; attempt++) {
        boolean resume = attempt > 1;
        String resumeNote = resume ? "latest" + (LatestCursor.readable(checkpoints) ? "" : " " + Event.Attempt.TORN) : "";
        Path dir = out.resolve("run-" + attempt);
        List<String> more = new ArrayList<>(List.of("--cluster", nodes.contact(), "--checkpoint-dir", checkpoints.toString(),
            "--set", "conveyor.node.hostname=" + network.simAddress(), "--set", "conveyor.tls.allow-plain-tcp=true"));
        more.addAll(JobRuns.outputs(dir));
        certs.ifPresent(c -> more.addAll(c.clientArgs()));
        // every run is the same command, as a Kubernetes Job's pod is: the first starts, a retry goes
        // on from the newest good cursor — nobody resubmits anything
        more.add("--resume-or-start");
        long begun = now();
        options.say().accept("run " + attempt + (resume ? ": the same command again (--resume-or-start), as the Job's"
            + " retry: from the newest good cursor" : ": the job on the cluster"));
        holds.update(progress.batches(), progress.earlierLives(), nemesis); // held before the job starts
        Process p = JobRuns.start(command("run", recipe, more), dir, certs.map(Certs::env).orElse(Map.of()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(runTimeoutSeconds());
        while (p.isAlive() && System.nanoTime() < deadline) {
          nemesis.tick(progress.batches());
          holds.update(progress.batches(), progress.earlierLives(), nemesis);
          respawn.check();
          lastCheckpoint = checkpoint(checkpoints, attempt, lastCheckpoint);
          Thread.sleep(20);
        }
        int exit = await(p);
        lastCheckpoint = checkpoint(checkpoints, attempt, lastCheckpoint);
        boolean removed = exit != 0 && JobRuns.clientRemoved(dir);
        if (removed) {
          nodes.awaitEnded(1, 10); // downed with the client, the host is on its way out (or started again already)
          respawn.check();
        }
        boolean hostDown = exit != 0 && (removed || !nodes.alive(1) || hostDisturbed(begun));
        events.addAll(JobRuns.events(attempt, dir, begun, resumeNote, exit, hostDown));
        options.say().accept("run " + attempt + " ended with exit code " + exit + (removed
            ? ", its client removed from the cluster" : hostDown ? ", the trainer host down" : ""));
        if (exit == 0 || !hostDown || attempt == MAX_RUNS) {
          break;
        }
        awaitSettled(nemesis, progress);
        nemesis.runEnded(attempt, progress.batches());
        respawn.awaitIdle(); // a host that ended on its own is being started again already
        if (!nodes.alive(1)) {
          nodes.start(1);
          record(new Event.Fault(now(), "restart node 1 (the trainer host, to resume the job)", "restart", 1, true, ""));
        }
      }
      respawn.awaitIdle(); // a worker being started again is recorded before the history is written
      // faults timed by the clock come even after the job ended (the cluster is still there): a
      // `cont` at "20s" continues the node a `stop` paused, whenever the job was done
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while ((nemesis.timedPending() || !nemesis.settled()) && System.nanoTime() < deadline) {
        nemesis.tick(progress.batches());
        Thread.sleep(50);
      }
      nemesis.finish("the job ended");
    } finally {
      progress.close();
    }
  }

  /** Whether a fault hit the trainer host since {@code since}. */
  private boolean hostDisturbed(long since) {
    synchronized (events) {
      return events.stream().anyMatch(e -> e instanceof Event.Fault f && f.node() == 1 && f.applied() && f.t() >= since);
    }
  }

  /** Waits (up to 2 minutes) until the nemesis has settled: nothing being applied, nothing waiting to be undone. */
  private static void awaitSettled(Nemesis nemesis, Progress progress) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (!nemesis.settled() && System.nanoTime() < deadline) {
      nemesis.tick(progress.batches());
      Thread.sleep(50);
    }
  }

  /** Records the cursor in {@code latest.cursor} when it is new and whole; returns the latest token seen. */
  private String checkpoint(Path checkpoints, int attempt, String last) {
    Optional<String> token = LatestCursor.token(checkpoints); // empty while being replaced, or torn by the nemesis
    if (token.isEmpty() || token.get().equals(last)) {
      return last;
    }
    events.add(new Event.Checkpoint(attempt, now(), token.get()));
    return token.get();
  }
}
