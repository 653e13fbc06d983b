package dev.conveyor.cli;

import dev.conveyor.sim.check.Verdict;
import dev.conveyor.sim.run.Simulation;
import dev.conveyor.sim.scenario.Scenario;
import dev.conveyor.sim.scenario.ScenarioFile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code conveyor sim SCENARIO.conf}: a multi-node fault scenario, its history checked against a fault-free run. */
@Command(
    name = "sim",
    mixinStandardHelpOptions = true,
    description = {
        "Runs a fault scenario on this machine: `conveyor node` processes on 127.0.0.1, the embedded S3 server behind",
        "a fault proxy, a job, and a nemesis applying the scenario's faults; then checks the recorded history against",
        "a fault-free run of the same job. Exit code 0 exactly when the verdict is ok (see --out for why not).",
        "Shipped scenarios: sim/scenarios/*.conf"})
final class SimCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SCENARIO.conf", description = "The scenario (HOCON; docs/sim.md).")
  Path scenarioFile;

  @Option(names = "--out", paramLabel = "DIR", description = "Where history.jsonl, verdict.json and report.html go"
      + " (default: sim-out/<scenario>).")
  Path out;

  @Option(names = "--seed", paramLabel = "S", description = "Seed of the random nemesis (faults-random), instead of the file's.")
  Long seed;

  @Option(names = "--no-namespaces", description = "Keep every node on 127.0.0.1 even as root: a partition is then"
      + " recorded not applied and the verdict fails (what a machine without network namespaces shows).")
  boolean noNamespaces;

  @Override
  public Integer call() throws Exception {
    Scenario scenario = ScenarioFile.read(scenarioFile);
    PrintWriter stdout = spec.commandLine().getOut();
    Path dir = out != null ? out : Path.of("sim-out", scenario.name());
    // the nodes and runs are this same CLI in JVMs of their own; C1 only: they run for seconds, and on
    // a small machine C2's compile threads take the cores the nodes' work needs
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> conveyor = new java.util.ArrayList<>(List.of(java, "-XX:+UseG1GC", "-Xmx384m", "-XX:TieredStopAtLevel=1"));
    // the options bin/conveyor gives this JVM go to theirs too (a logging config, a larger heap…)
    String opts = System.getenv().getOrDefault("CONVEYOR_JAVA_OPTS", "").trim();
    if (!opts.isEmpty()) {
      conveyor.addAll(List.of(opts.split("\\s+")));
    }
    conveyor.addAll(List.of("-cp", System.getProperty("java.class.path"), ConveyorCli.class.getName()));
    stdout.println("sim " + scenario.name() + ": " + scenario.nodes() + " nodes, " + scenario.schedule(Optional.ofNullable(seed))
        .size() + " fault(s); output in " + dir);
    Simulation.Outcome o = Simulation.run(scenario, new Simulation.Options(conveyor, dir, Optional.ofNullable(seed),
        line -> {
          stdout.println("  " + line);
          stdout.flush();
        }, !noNamespaces));
    Verdict v = o.verdict();
    v.violations().forEach(x -> stdout.println("  violation " + x));
    stdout.printf(Locale.ROOT, "verdict: %s (%d violation(s), %d fault(s) applied, %d not applied) in %.1f s; report: %s%n",
        v.ok() ? "ok" : "FAILED", v.violations().size(), v.faultsApplied().size(), v.faultsNotApplied().size(), o.seconds(),
        dir.resolve("report.html"));
    stdout.flush();
    return v.ok() ? ConveyorCli.EXIT_OK : ConveyorCli.EXIT_FAILURE;
  }
}
