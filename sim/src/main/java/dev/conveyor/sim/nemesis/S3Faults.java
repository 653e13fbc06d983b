package dev.conveyor.sim.nemesis;

import dev.conveyor.sim.faults.FaultPlan;
import dev.conveyor.sim.faults.FaultPlan.Rule;
import dev.conveyor.sim.scenario.Scenario.Fault;
import java.util.List;

/**
 * A scenario's S3 faults as the fault proxy's plans: which requests, which fault, at what rate,
 * seeded from the fault itself so that a scenario faults the same requests every run.
 */
final class S3Faults {
  private S3Faults() {}

  /** The proxy's plan while S3 fault {@code f} lasts. */
  static FaultPlan plan(Fault f) {
    return switch (f.action()) {
      case S3_LATENCY -> new FaultPlan(0, List.of(new Rule("*", FaultPlan.Fault.LATENCY, 1.0)), f.latency().toMillis(), 0);
      case S3_SLOWDOWN -> new FaultPlan(seed(f), List.of(new Rule("*", FaultPlan.Fault.SLOW_DOWN_503, f.rate())), 0, 0);
      case S3_RESET -> new FaultPlan(seed(f), List.of(new Rule("GET", FaultPlan.Fault.RESET_MID_BODY, f.rate())), 0, 0);
      case S3_STALL -> new FaultPlan(seed(f), List.of(new Rule("GET", FaultPlan.Fault.STALL_BODY, f.rate())), 0,
          f.stall().toMillis());
      case S3_CORRUPT -> new FaultPlan(seed(f), List.of(new Rule("GET", FaultPlan.Fault.CORRUPT, f.rate())), 0, 0);
      default -> throw new IllegalArgumentException(f.action() + " is not an S3 fault");
    };
  }

  private static long seed(Fault f) {
    return f.at().toString().hashCode() * 31L + f.action().ordinal();
  }
}
