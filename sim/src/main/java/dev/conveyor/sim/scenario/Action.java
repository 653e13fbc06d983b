package dev.conveyor.sim.scenario;

import java.util.Locale;

/** What the nemesis does at a fault's time; the scenario file names each in lower case with dashes. */
public enum Action {
  /** SIGKILL of the node's process. */
  KILL(true),
  /** SIGSTOP: the process is paused; with {@code for}, SIGCONT after it. */
  STOP(true),
  /** SIGCONT of a paused node. */
  CONT(true),
  /** SIGTERM: the node leaves the cluster gracefully. */
  TERM(true),
  /** A killed or stopped node's process started again, with the same settings and ports. */
  RESTART(true),
  /**
   * A rolling upgrade's step, as a StatefulSet's rolling update takes it: SIGTERM (the node hands
   * its leases back and leaves), its exit awaited, then it starts again with the next app-version.
   */
  UPGRADE(true),
  /** The S3 server's answers come {@code latency} late. */
  S3_LATENCY(false),
  /** A share {@code rate} of S3 requests answered 503 SlowDown. */
  S3_SLOWDOWN(false),
  /** A share {@code rate} of S3 GETs reset (TCP RST) halfway through the body. */
  S3_RESET(false),
  /** A share {@code rate} of S3 GETs stall halfway through the body for {@code stall}, then close. */
  S3_STALL(false),
  /** A share {@code rate} of S3 GETs' first answers with one byte of the body changed. */
  S3_CORRUPT(false),
  /** The checkpoint directory's latest cursor file cut short or garbled ({@code how}). */
  TEAR_CHECKPOINT(false),
  /**
   * The members' certificate renewed with {@code conveyor certs --ca} (same CA) and put in the old
   * one's place; nodes started again after it present the new one. Needs {@code tls = true}.
   */
  RENEW_CERTS(false),
  /** The node cut off from every other node and from S3 (a network namespace's link down); with {@code for}, healed after it. */
  PARTITION(true),
  /** A partitioned node's link up again (all partitioned nodes when no node is named). */
  HEAL(false);

  /** Whether the action needs {@code node}. */
  public final boolean needsNode;

  Action(boolean needsNode) {
    this.needsNode = needsNode;
  }

  /** The name a scenario file uses: {@code s3-slowdown}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Whether it changes what the S3 server's proxy does. */
  public boolean s3() {
    return name().startsWith("S3_");
  }

  /** The action named {@code id}, or null. */
  public static Action of(String id) {
    for (Action a : values()) {
      if (a.id().equals(id)) {
        return a;
      }
    }
    return null;
  }

  /** Every action's name, as a scenario writes it: "kill | stop | …". */
  public static String names() {
    StringBuilder s = new StringBuilder();
    for (Action a : values()) {
      s.append(s.length() == 0 ? "" : " | ").append(a.id());
    }
    return s.toString();
  }
}
