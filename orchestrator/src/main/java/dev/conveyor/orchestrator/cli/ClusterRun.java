package dev.conveyor.orchestrator.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.orchestrator.cluster.ClusterClient;
import dev.conveyor.orchestrator.cluster.JobSpec;
import dev.conveyor.orchestrator.job.JobRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;

/** {@code run --cluster HOST:PORT}: plans the job here, runs it on the cluster, writes what it delivered. */
final class ClusterRun {
  private ClusterRun() {}

  static void run(Config config, String seed, Optional<String> resume, Optional<Path> digestOut,
                  Optional<Path> deadLetter, PrintWriter out, PrintWriter err) throws Exception {
    ConveyorSettings settings = ConveyorSettings.fromConfig(config);
    JobSettings job = settings.job();
    JobRunner.Planned planned;
    ActorSystem local = ActorSystem.create("conveyor-plan", config.withFallback(ConfigFactory.load()));
    try {
      planned = new JobRunner(Materializer.createMaterializer(local), line -> err.println("run: " + line)).plan(settings);
    } finally {
      local.terminate();
      local.getWhenTerminated().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(x -> null).join();
    }
    if (resume.isPresent() && resume.get().equals("latest") && job.checkpointDir().isEmpty()) {
      throw new ConveyorCli.UsageException("--resume latest needs a checkpoint directory: give --checkpoint-dir (or"
          + " checkpoint-dir in the job file); with --cluster it is read and written by the job coordinator's node");
    }
    // names this submission: the recipe, this process and the time it was submitted
    String id = planned.recipe().fingerprint() + "-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
    JobSpec spec = JobSpec.of(id, planned.recipe(), planned.checks(), job.worldSize(), job.epochs(),
            job.readerParallelism(), job.stageParallelism(), job.maxMemberBytes())
        .checkpointed(job.checkpointDir(), job.checkpointEvery(), job.checkpointKeep(), resume.orElse(""), job.maxSteps());
    if (job.decode() == JobSettings.Decode.AUTO) {
      spec = spec.decoding(settings.decode(), settings.stages()); // the workers decode, in pools sized by their CPU slots
    }
    ClusterClient.Outcome o = ClusterClient.run(seed, spec, ConfigFactory.load(), line -> {
      err.println("run: " + line);
      err.flush();
    }, Duration.ofSeconds(60), Duration.ofMinutes(10));
    write(digestOut, o.digests());
    write(deadLetter, o.deadLetters());
    out.println(String.format(Locale.ROOT, "run: cluster %s: ranks %d on %s, %d shard reader(s), shards %d%n"
            + "  samples %,d   batches %,d   bad samples %,d%n"
            + "  %,.0f samples/s   wall %.2f s   slices leased %d, leased again %d, handed back %d"
            + "   coordinator taken over %d time(s)",
        seed, job.worldSize(), o.trainerHosts(), o.readers(), planned.shards(), o.samples(), o.batches(),
        o.deadLetters().size(), o.seconds() > 0 ? o.samples() / o.seconds() : 0, o.seconds(), o.leases(), o.reassigned(),
        o.handedBack(), o.takeovers()));
    if (resume.isPresent()) {
      out.println("resumed from: " + o.start());
    }
    out.println("cursor: " + o.cursor() + (o.persisted() ? "   (saved in " + job.checkpointDir() + ")" : ""));
  }

  private static void write(Optional<Path> file, List<String> lines) throws IOException {
    if (file.isPresent()) {
      Path p = file.get().toAbsolutePath();
      Files.createDirectories(p.getParent());
      Files.write(p, lines, StandardCharsets.UTF_8);
    }
  }
}
