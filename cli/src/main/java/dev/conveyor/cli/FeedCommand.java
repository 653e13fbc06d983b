package dev.conveyor.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.TrainerRingSettings;
import dev.conveyor.orchestrator.node.TrainerRings;
import dev.conveyor.workers.feeder.RingTrainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code conveyor feed [JOB.conf] [flags] --rank R}: one rank of a job for a trainer process, through a ring. */
@Command(
    name = "feed",
    mixinStandardHelpOptions = true,
    description = {
        "Runs one rank of a job for a trainer process on this machine (the Python package's Loader starts",
        "it): the rank's batches go into a shared-memory ring that the trainer maps, and each counts as",
        "delivered when the trainer is handed it. Prints 'ring: {\"path\": ...}' once the ring is ready (its",
        "file is removed as soon as the trainer has mapped it), and stops at once when its standard input",
        "closes: the trainer is gone. Flags as for run; the ring's settings are conveyor.node.trainer-ring.*."})
final class FeedCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin
  JobFlags job = new JobFlags();

  @Option(names = "--rank", paramLabel = "R", description = "The rank to feed (default: 0).")
  Integer rank;

  @Option(names = "--share", paramLabel = "SOCKET", description = {
      "Feed every rank of the job, each to the trainer process that attaches for it through this Unix",
      "socket (the Python Loader does, for the ranks of one machine); prints 'share: {...}' once listening."})
  Path share;

  @Override
  public Integer call() throws Exception {
    if (share != null) {
      return shared();
    }
    int rank = this.rank == null ? 0 : this.rank;
    Config config = job.config(rank);
    TrainerRingSettings ringSettings = TrainerRingSettings.fromConfig(config.withFallback(ConfigFactory.load()));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    AtomicReference<RingTrainer.Announced> announced = new AtomicReference<>();
    watchParent(System.in, err, announced);
    TrainerRings.Attachment trainer = new TrainerRings.Attachment(TrainerRings.settings(ringSettings), a -> {
      announced.set(a);
      synchronized (out) {
        out.println(a.line());
        out.flush();
      }
    }, () -> true); // this process ends with its trainer (its standard input closes)
    JobLauncher.launch(config, job.recordFiles(), job.resume(), Optional.empty(), out, err, "feed", job.progress,
        system -> TrainerRings.get(system).attach(rank, trainer));
    return ConveyorCli.EXIT_OK;
  }

  /** Every rank of the job in this process, each for the trainer that attaches for it through {@link #share}. */
  private int shared() throws Exception {
    if (rank != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--share feeds every rank of the job: leave out --rank");
    }
    Config config = job.config(null);
    Config full = config.withFallback(ConfigFactory.load());
    TrainerRingSettings ringSettings = TrainerRingSettings.fromConfig(full);
    int world = JobSettings.fromConfig(full).worldSize();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (SharedFeed feed = SharedFeed.listen(share.toAbsolutePath(), world, System.in, err)) {
      synchronized (out) {
        out.println(feed.line());
        out.flush();
      }
      JobLauncher.launch(config, job.recordFiles(), job.resume(), Optional.empty(), out, err, "feed", job.progress,
          system -> feed.attachAll(TrainerRings.get(system), TrainerRings.settings(ringSettings)));
    }
    return ConveyorCli.EXIT_OK;
  }

  /**
   * Stops this process as soon as {@code in} ends: the trainer that started it is gone (even
   * killed: the kernel closes its end of the pipe). A ring it never mapped is removed first.
   */
  private static void watchParent(InputStream in, PrintWriter err, AtomicReference<RingTrainer.Announced> announced) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[256];
      try {
        while (in.read(buf) >= 0) {
          // the trainer writes nothing; reading only waits for the end
        }
      } catch (IOException e) {
        // a broken pipe ends it the same way
      }
      err.println("feed: the trainer's pipe closed (it stopped or died): stopping");
      err.flush();
      RingTrainer.Announced a = announced.get();
      if (a != null) {
        try {
          Files.deleteIfExists(a.file());
        } catch (IOException e) {
          err.println("feed: could not remove " + a.file() + ": " + e.getMessage());
        }
      }
      Runtime.getRuntime().halt(ConveyorCli.EXIT_FAILURE);
    }, "trainer-pipe-watch");
    t.setDaemon(true);
    t.start();
  }
}
