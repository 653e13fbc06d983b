package dev.conveyor.sim.run;

import dev.conveyor.sim.history.Event;
import dev.conveyor.sim.history.Event.Attempt;
import dev.conveyor.sim.history.Event.Batch;
import dev.conveyor.sim.history.Event.DeadLetter;
import dev.conveyor.orchestrator.checkpoint.CursorStore;
import dev.conveyor.orchestrator.client.ClusterClient;
import dev.conveyor.streams.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A run of {@code conveyor run} as a process of its own, with its outputs in a folder, and the
 * history events those outputs make: its batches (digest and keys files), its dead letters, and
 * how it began and ended.
 */
final class JobRuns {
  private JobRuns() {}

  /** The run's output flags, writing into {@code dir}. */
  static List<String> outputs(Path dir) {
    return List.of("--digest-out", dir.resolve("digests.txt").toString(), "--keys-out", dir.resolve("keys.txt").toString(),
        "--dead-letter", dir.resolve("dead.txt").toString(), "--summary-json", dir.resolve("summary.json").toString());
  }

  /** Starts {@code command}, its stdout and stderr into {@code dir}. */
  static Process start(List<String> command, Path dir) throws IOException {
    return start(command, dir, java.util.Map.of());
  }

  /**
   * Starts {@code command} with {@code env} in its environment, its stdout and stderr into
   * {@code dir}, and the command itself (secrets' values left out) into {@code dir/command.txt}.
   */
  static Process start(List<String> command, Path dir, java.util.Map<String, String> env) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("command.txt"), String.join(" ", command.stream()
        .map(a -> a.matches("(?i)[^=]*(secret|password|token)[^=]*=.*") ? a.substring(0, a.indexOf('=') + 1) + "…" : a)
        .toList()) + "\n");
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(dir.resolve("stdout.txt").toFile())
        .redirectError(dir.resolve("stderr.txt").toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    ExitHook hook = new ExitHook("conveyor-sim-run", p::destroyForcibly); // the simulation stopped: so does its run
    p.onExit().thenRun(hook::cancel);
    return p;
  }

  /** The events of run {@code attempt}, whose outputs are in {@code dir}, begun at {@code t} with {@code resume}. */
  static List<Event> events(int attempt, Path dir, long t, String resume, int exit, boolean hostLost) throws IOException {
    List<Event> events = new ArrayList<>();
    String out = read(dir.resolve("stdout.txt"));
    String err = read(dir.resolve("stderr.txt"));
    String cursor = lastValue(out, "cursor: ").split("\\s+")[0]; // "cursor: TOKEN  (saved in DIR)"
    String resumedFrom = lastValue(out, "resumed from: ");
    String fellBack = (out + "\n" + err).lines().filter(l -> l.contains(CursorStore.FELL_BACK)).findFirst().orElse("");
    long bad = 0;
    Path summary = dir.resolve("summary.json");
    if (Files.exists(summary) && Files.size(summary) > 0) {
      bad = Json.parse(read(summary)).path("bad_samples").asLong();
    }
    events.add(new Attempt(attempt, t, resume, resumedFrom, fellBack.trim(), exit, cursor, bad, hostLost));
    Map<String, List<String>> keys = new HashMap<>(); // "epoch rank step" -> keys, in order
    for (String line : lines(dir.resolve("keys.txt"))) {
      String[] f = line.split(" ", 4);
      if (f.length < 4) {
        continue; // the last line of a run stopped while writing it
      }
      keys.computeIfAbsent(f[0] + " " + f[1] + " " + f[2], k -> new ArrayList<>()).add(f[3]);
    }
    for (String line : lines(dir.resolve("digests.txt"))) {
      String[] f = line.split(" ");
      if (f.length < 5 || f[4].length() != 64) {
        continue; // the last line of a run stopped while writing it: a batch not recorded whole
      }
      // epoch step rank sha256(batch) sha256(keys)
      events.add(new Batch(attempt, Integer.parseInt(f[0]), Integer.parseInt(f[2]), Long.parseLong(f[1]), f[3], f[4],
          keys.getOrDefault(f[0] + " " + f[2] + " " + f[1], List.of())));
    }
    for (String line : lines(dir.resolve("dead.txt"))) {
      String[] f = line.split(" ", 3);
      events.add(new DeadLetter(attempt, f[0], f.length > 1 ? f[1] : "", f.length > 2 ? f[2] : ""));
    }
    return events;
  }

  /**
   * Whether the run in {@code dir} failed because its client was removed from the cluster — by
   * the split-brain resolver downing every member of a cluster whose reachability would not
   * settle, the trainer host with it — which a Job's retry of the same command gets over.
   */
  static boolean clientRemoved(Path dir) throws IOException {
    return read(dir.resolve("stderr.txt")).contains(ClusterClient.REMOVED);
  }

  /** The last line's value that starts with {@code prefix} ("" when none does). */
  private static String lastValue(String text, String prefix) {
    return text.lines().filter(l -> l.startsWith(prefix)).reduce((a, b) -> b).map(l -> l.substring(prefix.length()).trim())
        .orElse("");
  }

  static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
  }

  private static List<String> lines(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList()
        : List.of();
  }
}
