package dev.conveyor.orchestrator.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.JobSettings;
import dev.conveyor.orchestrator.cluster.ClusterClient;
import dev.conveyor.orchestrator.cluster.JobSpec;
import dev.conveyor.orchestrator.job.JobRunner;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.synth.Json;
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

  static void run(Config config, String seed, Optional<String> resume, JobLauncher.RecordFiles files, PrintWriter out,
                  PrintWriter err) throws Exception {
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
    spec = spec.recording(files.digestOut().isPresent(), files.keysOut().isPresent());
    ClusterClient.Outcome o = ClusterClient.run(seed, spec, ConfigFactory.load(), line -> {
      err.println("run: " + line);
      err.flush();
    }, Duration.ofSeconds(60), Duration.ofMinutes(10));
    write(files.digestOut(), o.digests());
    write(files.keysOut(), o.keys());
    write(files.deadLetter(), o.deadLetters());
    long dropped = droppedRemainder(spec, Cursor.decode(o.start()));
    if (files.summaryJson().isPresent()) {
      write(files.summaryJson(), List.of(json(o, job.worldSize(), planned.shards(), dropped)));
    }
    out.println(String.format(Locale.ROOT, "run: cluster %s: ranks %d on %s, %d shard reader(s), shards %d%n"
            + "  samples %,d   batches %,d   bytes %.1f MB   bad samples %,d   drop-last remainder %,d%n"
            + "  %,.0f samples/s   wall %.2f s   slices leased %d, leased again %d, handed back %d"
            + "   coordinator taken over %d time(s)",
        seed, job.worldSize(), o.trainerHosts(), o.readers(), planned.shards(), o.samples(), o.batches(), o.bytes() / 1e6,
        o.deadLetters().size(), dropped, o.seconds() > 0 ? o.samples() / o.seconds() : 0, o.seconds(), o.leases(), o.reassigned(),
        o.handedBack(), o.takeovers()));
    if (resume.isPresent()) {
      out.println("resumed from: " + o.start());
    }
    out.println("cursor: " + o.cursor() + (o.persisted() ? "   (saved in " + job.checkpointDir() + ")" : ""));
  }

  /** The drop-last remainders of the epochs this run starts from their beginning (as one process counts them). */
  static long droppedRemainder(JobSpec job, Cursor start) {
    DataPlan plan = new DataPlan(job.recipe());
    long dropped = 0;
    for (int e = start.epoch(); e < job.epochs(); e++) {
      RankSegment seg = plan.rank(e == start.epoch() ? start : start.atEpoch(e, job.world()), job.world(), 0);
      if (seg.firstBatch() == 0) {
        dropped += seg.dropped();
      }
    }
    return dropped;
  }

  /** The summary as JSON: the figures of a one-process run's {@code --summary-json}, and the cluster's own. */
  static String json(ClusterClient.Outcome o, int ranks, int shards, long dropped) {
    String shares = o.shares().stream().map(Json::quote).collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    String hosts = o.trainerHosts().stream().map(Json::quote).collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    return String.format(Locale.ROOT,
        "{\"ranks\": %d, \"shards\": %d, \"samples\": %d, \"batches\": %d, \"bytes\": %d, \"bad_samples\": %d, "
            + "\"dropped_remainder\": %d, \"seconds\": %.3f, \"samples_per_s\": %.1f, \"mb_per_s\": %.2f, "
            + "\"cursor\": \"%s\", \"cluster\": {\"cursor_saved\": %s, \"resumed_from\": \"%s\", "
            + "\"trainer_hosts\": %s, \"readers\": %d, \"shares\": %s, \"leases\": %d, \"leased_again\": %d, "
            + "\"handed_back\": %d, \"coordinator_takeovers\": %d}}",
        ranks, shards, o.samples(), o.batches(), o.bytes(), o.deadLetters().size(), dropped, o.seconds(),
        o.seconds() > 0 ? o.samples() / o.seconds() : 0, o.seconds() > 0 ? o.bytes() / 1e6 / o.seconds() : 0, o.cursor(),
        o.persisted(), o.start(), hosts, o.readers(), shares, o.leases(), o.reassigned(), o.handedBack(), o.takeovers());
  }

  private static void write(Optional<Path> file, List<String> lines) throws IOException {
    if (file.isPresent()) {
      Path p = file.get().toAbsolutePath();
      Files.createDirectories(p.getParent());
      Files.write(p, lines, StandardCharsets.UTF_8);
    }
  }
}
