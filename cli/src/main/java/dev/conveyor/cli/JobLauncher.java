package dev.conveyor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.cli.report.RunRecording;
import dev.conveyor.cli.report.RunReport;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.orchestrator.client.ClusterClient;
import dev.conveyor.orchestrator.client.JobRun;
import dev.conveyor.orchestrator.delivery.JobOutputs;
import dev.conveyor.orchestrator.delivery.JobSummary;
import dev.conveyor.orchestrator.delivery.RankReport;
import dev.conveyor.orchestrator.delivery.RunObserver;
import dev.conveyor.orchestrator.node.ClusterNode;
import dev.conveyor.streams.sample.DeadLetter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Runs one job ({@link JobRun}) and prints its summary: on a cluster of one started in this
 * process, or on a running cluster joined as a client ({@code --cluster}).
 */
final class JobLauncher {
  private static final Duration SHUTDOWN = Duration.ofSeconds(30);

  private JobLauncher() {}

  /** Where the run's record files go, each optional; {@code report}: the folder of its report. */
  record RecordFiles(Optional<Path> digestOut, Optional<Path> keysOut, Optional<Path> deadLetter, Optional<Path> summaryJson,
                     Optional<Path> report) {
    RecordFiles(Optional<Path> digestOut, Optional<Path> keysOut, Optional<Path> deadLetter, Optional<Path> summaryJson) {
      this(digestOut, keysOut, deadLetter, summaryJson, Optional.empty());
    }
  }

  /** Runs the job {@code config} describes, on the cluster at {@code seed} or (empty) in this process. */
  static JobSummary launch(Config config, RecordFiles files, Optional<String> resume, Optional<String> seed,
                           PrintWriter out, PrintWriter err, String title, ProgressOptions shown) throws Exception {
    return launch(config, files, resume, seed, out, err, title, shown, system -> {});
  }

  /** As above, with {@code prepare} called on the actor system before the job is submitted. */
  static JobSummary launch(Config config, RecordFiles files, Optional<String> resume, Optional<String> seed,
                           PrintWriter out, PrintWriter err, String title, ProgressOptions shown,
                           Consumer<ActorSystem<?>> prepare) throws Exception {
    ConveyorSettings settings = ConveyorSettings.fromConfig(config);
    Consumer<String> progress = shown.notices(title, err);
    Optional<RunRecording> recording = files.report().isEmpty() ? Optional.empty()
        : Optional.of(new RunRecording(files.report().get()));
    Config full = config.withFallback(ConfigFactory.load());
    ActorSystem<?> system = seed.isPresent() ? ClusterClient.join(seed.get(), full)
        : ClusterNode.startAlone(NodeSettings.fromConfig(full), settings.s3(), full);
    JobSummary summary = null;
    Optional<String> failure = Optional.empty();
    try (JobOutputs outputs = new JobOutputs(files.digestOut(), files.keysOut(), files.deadLetter())) {
      prepare.accept(system);
      recording.ifPresent(outputs::observe);
      try (ProgressMeter meter = shown.meter(title, 0, "batches", err)) {
        outputs.observe(new BatchCounter(meter));
        summary = JobRun.run(system, settings, outputs, resume, seed, progress);
      } catch (Exception | Error e) {
        failure = Optional.of(String.valueOf(e.getMessage()));
        throw e;
      }
      out.println(title + ": " + summary.text());
      if (files.summaryJson().isPresent()) {
        Path p = files.summaryJson().get().toAbsolutePath();
        Files.createDirectories(p.getParent());
        Files.writeString(p, summary.json(), StandardCharsets.UTF_8);
      }
      summary.cluster().filter(c -> resume.isPresent()).ifPresent(c -> out.println("resumed from: " + c.resumedFrom()));
      out.println("cursor: " + summary.cursor() + (summary.cluster().filter(c -> c.cursorSaved()).isPresent()
          ? "   (saved in " + settings.job().checkpointDir() + ")" : ""));
      return summary;
    } finally {
      stop(system, seed.isPresent());
      if (recording.isPresent()) {
        try {
          recording.get().finish(Optional.ofNullable(summary), failure);
          err.println(title + ": report in " + RunReport.render(files.report().get()).toAbsolutePath());
        } catch (java.io.IOException | RuntimeException e) { // the run's own outcome stands
          err.println(title + ": the report could not be drawn: " + e.getMessage());
        }
        err.flush();
      }
    }
  }

  /** Counts batches into a progress meter. */
  private static final class BatchCounter implements RunObserver {
    private final ProgressMeter meter;
    private long batches;

    BatchCounter(ProgressMeter meter) {
      this.meter = meter;
    }

    @Override
    public void planned(long n) {
      meter.total(n);
    }

    @Override
    public void batch(RankReport.BatchDone b) {
      meter.stepTo(++batches);
    }

    @Override
    public void deadLetter(DeadLetter d) {}
  }

  private static void stop(ActorSystem<?> system, boolean client) {
    if (client) {
      ClusterClient.leave(system);
      return;
    }
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(SHUTDOWN.toSeconds(), TimeUnit.SECONDS)
        .exceptionally(e -> null).join();
  }
}
