package dev.conveyor.sim.faults;

import java.util.List;

/**
 * Which faults the proxy injects, and how often: each request draws one number, seeded from
 * ({@code seed}, the request line, its Range header, how many times that same request was
 * seen before), and the first rule whose cumulative probability covers it applies. So a run
 * with the same requests meets the same faults whatever their timing, and a retry of a request
 * draws anew.
 *
 * @param latencyMillis added before forwarding, for {@link Fault#LATENCY}
 * @param stallMillis   how long a {@link Fault#STALL_BODY} response goes silent before the proxy closes it
 */
public record FaultPlan(long seed, List<Rule> rules, long latencyMillis, long stallMillis) {
  /** What happens to one request. */
  public enum Fault {
    /** 503 SlowDown, before forwarding. */
    SLOW_DOWN_503,
    /** 500 InternalError, before forwarding. */
    ERROR_500,
    /** Forwarded after {@code latencyMillis}. */
    LATENCY,
    /** Half the body is relayed, then the connection is reset (TCP RST). */
    RESET_MID_BODY,
    /** Half the body is relayed, then nothing for {@code stallMillis}, then the connection is closed. */
    STALL_BODY,
    /** Half the body is relayed, then the connection is closed cleanly (a short body). */
    TRUNCATE,
    /**
     * The body relayed whole with one byte in its middle changed — on a request's first answer
     * only: the retry of a changed read gets the true bytes, as over a flaky link.
     */
    CORRUPT
  }

  /** {@code fault} for a share {@code probability} of the requests whose method is {@code method} ("*": any). */
  public record Rule(String method, Fault fault, double probability) {
    public Rule {
      if (probability < 0 || probability > 1) {
        throw new IllegalArgumentException("probability must be in [0, 1], got " + probability);
      }
    }
  }

  public FaultPlan {
    rules = List.copyOf(rules);
    double sum = 0;
    for (Rule r : rules) {
      sum += r.probability();
    }
    if (sum > 1 + 1e-9) {
      throw new IllegalArgumentException("the rules' probabilities add up to " + sum + ", over 1");
    }
  }

  /** No faults: every request is forwarded as it is. */
  public static FaultPlan none() {
    return new FaultPlan(0, List.of(), 0, 0);
  }

  /** Every request of {@code method} gets {@code fault} (an outage). */
  public static FaultPlan always(String method, Fault fault) {
    return new FaultPlan(0, List.of(new Rule(method, fault, 1.0)), 0, 0);
  }
}
