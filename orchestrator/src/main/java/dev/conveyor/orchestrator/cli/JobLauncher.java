package dev.conveyor.orchestrator.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.ConveyorSettings;
import dev.conveyor.orchestrator.job.JobOutputs;
import dev.conveyor.orchestrator.job.JobRunner;
import dev.conveyor.orchestrator.job.JobSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;

/** Starts the process's actor system, runs one job on it, prints the summary and stops. */
final class JobLauncher {
  private static final Duration SHUTDOWN = Duration.ofSeconds(30);

  private JobLauncher() {}

  /** Where the run's record files go, each optional. */
  record RecordFiles(Optional<Path> digestOut, Optional<Path> keysOut, Optional<Path> deadLetter, Optional<Path> summaryJson) {}

  static JobSummary launch(Config config, RecordFiles files, Optional<String> resume, PrintWriter out, PrintWriter err, String title)
      throws IOException, InterruptedException {
    ConveyorSettings settings = ConveyorSettings.fromConfig(config);
    ActorSystem system = ActorSystem.create("conveyor", config.withFallback(ConfigFactory.load()));
    try (JobOutputs outputs = new JobOutputs(files.digestOut(), files.keysOut(), files.deadLetter())) {
      JobSummary summary = new JobRunner(Materializer.createMaterializer(system), line -> {
        err.println(title + ": " + line);
        err.flush();
      }).run(settings, outputs, resume);
      out.println(title + ": " + summary.text());
      if (files.summaryJson().isPresent()) {
        Path p = files.summaryJson().get().toAbsolutePath();
        Files.createDirectories(p.getParent());
        Files.writeString(p, summary.json(), StandardCharsets.UTF_8);
      }
      out.println("cursor: " + summary.cursor());
      return summary;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(SHUTDOWN.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
    }
  }
}
