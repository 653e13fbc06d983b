package dev.conveyor.sim.nemesis;

import dev.conveyor.sim.faults.FaultPlan;
import dev.conveyor.sim.faults.FaultProxy;
import dev.conveyor.sim.history.Event;
import dev.conveyor.sim.run.Nodes;
import dev.conveyor.sim.scenario.Action;
import dev.conveyor.sim.scenario.Scenario.Fault;
import dev.conveyor.sim.scenario.Scenario.Trigger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Applies a scenario's faults when their time comes — {@link #tick} is called with the batches
 * delivered so far — one after another on a thread of its own (a restart waits for its node to
 * come up without holding up the clock), and records each as applied or, with the reason, not.
 * A fault with {@code for} is undone after it: a killed or stopped node is started again or
 * continued, a partition healed, the S3 proxy set back to no faults.
 */
public final class Nemesis implements AutoCloseable {
  private final Nodes nodes;
  private final FaultProxy proxy;
  private final String s3Unavailable; // why S3 faults reach no one ("" when the nodes read through the proxy)
  private final Path checkpoints;
  private final Partitions partitions;
  private final java.util.Optional<Certs> certs;
  private volatile String renewed = ""; // what the last renew-certs put in place, for its record
  private final LongSupplier clock;
  private final Consumer<Event> record;
  private final List<Pending> pending = new ArrayList<>();
  private final AwayNodes away = new AwayNodes(); // guarded by this
  private final Set<Integer> stopped = new HashSet<>(); // guarded by this
  /** Nodes this nemesis ended (SIGKILL, SIGTERM, an upgrade's SIGTERM) and has not started again. */
  private final Set<Integer> ended = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** An upgraded node's up line (with its new app-version), for the fault's record. */
  private final java.util.Map<Integer, String> upgraded = new java.util.concurrent.ConcurrentHashMap<>();
  private static final int UPGRADE_EXIT_S = 60;
  private volatile long injectedBefore; // the proxy's faults so far when the S3 fault in force began
  private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
  /** Faults timed by batch handed to the nemesis's thread that have not struck yet. */
  private final java.util.concurrent.atomic.AtomicInteger unstruck = new java.util.concurrent.atomic.AtomicInteger();
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "conveyor-sim-nemesis");
    t.setDaemon(true);
    return t;
  });

  /** A fault waiting for its time; {@code undo} when it is the end of another fault's {@code for}. */
  private record Pending(Fault fault, Trigger at, boolean undo) {}

  /**
   * {@code clock} gives milliseconds since the job began; {@code record} takes each fault's event;
   * {@code checkpoints} is the job's checkpoint directory (for tear-checkpoint); {@code s3Unavailable}
   * why S3 faults would reach no one, or "".
   */
  public Nemesis(List<Fault> schedule, Nodes nodes, FaultProxy proxy, String s3Unavailable, Path checkpoints,
                 Partitions partitions, java.util.Optional<Certs> certs, LongSupplier clock, Consumer<Event> record) {
    this.nodes = nodes;
    this.certs = certs;
    this.proxy = proxy;
    this.s3Unavailable = s3Unavailable;
    this.checkpoints = checkpoints;
    this.partitions = partitions;
    this.clock = clock;
    this.record = record;
    for (Fault f : schedule) {
      pending.add(new Pending(f, f.at(), false));
    }
  }

  /** Hands each fault whose time has come, with {@code batches} delivered so far, to the nemesis's thread. */
  public synchronized void tick(long batches) {
    long now = clock.getAsLong();
    List<Pending> due = new ArrayList<>();
    for (Pending p : pending) {
      boolean time = !p.at().byRun() && (p.at().byBatch() ? batches >= p.at().batch() : now >= p.at().after().toMillis());
      if (time && (p.undo() || !away.waits(p, p.fault(), nodes::alive, now))) {
        due.add(p);
      }
    }
    pending.removeAll(due);
    for (Pending p : due) {
      inFlight.incrementAndGet();
      if (!p.undo() && p.at().byBatch()) {
        unstruck.incrementAndGet();
      }
      worker.execute(() -> apply(p, batches));
    }
  }

  /** Applies, in order, the faults due at the end of run {@code run}; returns once they are done. */
  public void runEnded(int run, long batches) throws InterruptedException {
    List<Pending> due = new ArrayList<>();
    synchronized (this) {
      for (Pending p : pending) {
        if (p.at().afterRun() == run) {
          due.add(p);
        }
      }
      pending.removeAll(due);
    }
    for (Pending p : due) {
      inFlight.incrementAndGet();
      worker.execute(() -> apply(p, batches));
    }
    while (inFlight.get() > 0) {
      Thread.sleep(20);
    }
  }

  /** Whether a fault timed by the clock (not by batch or run) still waits for its time. */
  public synchronized boolean timedPending() {
    return pending.stream().anyMatch(p -> !p.undo() && !p.at().byBatch() && !p.at().byRun());
  }

  /**
   * Whether a fault timed by batch, due at or before {@code batch}, has not struck yet: it waits
   * for its batch, or for the faults before it to be done. A fault that has struck may still be
   * under way (a node leaving, one starting again) while the job goes on.
   */
  public synchronized boolean busyUpTo(long batch) {
    return unstruck.get() > 0 || pending.stream().anyMatch(p -> !p.undo() && p.at().byBatch() && p.at().batch() <= batch);
  }

  /** Whether no fault is being applied and none waits to be undone (faults waiting for their own time aside). */
  public synchronized boolean settled() {
    return inFlight.get() == 0 && pending.stream().noneMatch(Pending::undo);
  }

  /**
   * Records every fault still waiting as not applied (the job ended first), after the ones being
   * applied are done; undoes what is still in force (a paused node continued, a partition healed).
   */
  public void finish(String why) throws InterruptedException {
    List<Pending> left;
    synchronized (this) {
      left = new ArrayList<>(pending);
      pending.clear();
    }
    worker.shutdown();
    worker.awaitTermination(120, TimeUnit.SECONDS);
    for (Pending p : left) {
      if (p.undo()) {
        undo(p.fault());
      } else {
        record(p.fault(), clock.getAsLong(), false, why + " before " + p.at());
      }
    }
  }

  private void apply(Pending p, long batches) {
    if (!p.undo() && p.at().byBatch()) {
      unstruck.decrementAndGet(); // it strikes now: its first act (a signal, a start, a cut) follows at once
    }
    try {
      if (p.undo()) {
        undo(p.fault());
        return;
      }
      Fault f = p.fault();
      long t = clock.getAsLong(); // when it struck (a restart is recorded once its node is up)
      String problem = doFault(f);
      // held at its batch (Holds), a fault timed by batch strikes there; anywhere else it missed
      boolean missed = problem == null && p.at().byBatch() && batches != p.at().batch();
      record(f, t, problem == null && !missed, problem != null ? problem
          : missed ? Event.Fault.MISSED + "due at batch " + p.at().batch() + ", struck " + detail(f, batches, t)
          : detail(f, batches, t));
      if (problem == null && f.duration() != null && f.action() != Action.CONT && f.action() != Action.RESTART
          && f.action() != Action.UPGRADE && f.action() != Action.HEAL && f.action() != Action.TEAR_CHECKPOINT
          && f.action() != Action.RENEW_CERTS) {
        synchronized (this) {
          pending.add(new Pending(f, Trigger.after(Duration.ofMillis(clock.getAsLong()).plus(f.duration())), true));
        }
      }
    } catch (Exception e) {
      record(p.fault(), clock.getAsLong(), false, "failed: " + e);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private String detail(Fault f, long batches, long t) {
    String up = f.action() == Action.UPGRADE ? upgraded.remove(f.node()) : null;
    return "at batch " + batches + ", " + t + " ms" + (f.node() > 0 && nodes.alive(f.node())
        ? ", pid " + nodes.pid(f.node()) : "") + (up == null ? "" : "; back as " + up)
        + (f.action() == Action.RENEW_CERTS ? "; " + renewed : "");
  }

  /** Applies {@code f}: null when done, else why it could not be. */
  private String doFault(Fault f) throws Exception {
    int n = f.node();
    switch (f.action()) {
      case KILL, TERM, STOP -> {
        if (!nodes.alive(n)) {
          return "node " + n + " is not running";
        }
        if (f.action() == Action.STOP) {
          synchronized (this) {
            stopped.add(n);
          }
        } else {
          ended.add(n);
        }
        nodes.signal(n, f.action() == Action.KILL ? "KILL" : f.action() == Action.TERM ? "TERM" : "STOP");
        if (f.action() == Action.KILL) {
          nodes.awaitExit(n, 10);
        }
        return null;
      }
      case CONT -> {
        synchronized (this) {
          if (!stopped.remove(n)) {
            return "node " + n + " is not stopped";
          }
        }
        nodes.signal(n, "CONT");
        return null;
      }
      case RESTART -> {
        return restart(n);
      }
      case UPGRADE -> {
        return upgrade(n);
      }
      case S3_LATENCY, S3_SLOWDOWN, S3_RESET, S3_STALL, S3_CORRUPT -> {
        if (!s3Unavailable.isEmpty()) {
          return s3Unavailable;
        }
        injectedBefore = proxy.injected().values().stream().mapToLong(Long::longValue).sum();
        proxy.plan(S3Faults.plan(f));
      }
      case TEAR_CHECKPOINT -> {
        return LatestCursor.tear(checkpoints, f.how());
      }
      case RENEW_CERTS -> {
        if (certs.isEmpty()) {
          return "the cluster runs without TLS";
        }
        renewed = certs.get().renew();
        return null;
      }
      case PARTITION -> {
        return partitions.cut(n);
      }
      case HEAL -> {
        return partitions.heal(n);
      }
      default -> throw new IllegalStateException("no way to apply " + f.action());
    }
    return null;
  }

  /** SIGTERM, a clean exit, and the node back with the next app-version; the up line goes to the history. */
  private String upgrade(int n) throws Exception {
    if (!nodes.alive(n)) {
      return "node " + n + " is not running";
    }
    ended.add(n);
    nodes.signal(n, "TERM");
    if (!nodes.awaitExit(n, UPGRADE_EXIT_S)) {
      return "node " + n + " did not leave within " + UPGRADE_EXIT_S + " s of SIGTERM";
    }
    if (nodes.exitCode(n) != 0) {
      return "node " + n + " exited " + nodes.exitCode(n) + " after SIGTERM (a clean leave exits 0)";
    }
    upgraded.put(n, nodes.upgrade(n).trim());
    ended.remove(n);
    return null;
  }

  private String restart(int n) throws Exception {
    synchronized (this) {
      if (stopped.remove(n)) {
        nodes.signal(n, "CONT");
      }
    }
    if (nodes.alive(n)) {
      return "node " + n + " is running";
    }
    nodes.start(n);
    ended.remove(n);
    return null;
  }

  /** Whether node {@code n} is down by this nemesis's hand (killed, stopped with SIGTERM, being upgraded) until it starts it. */
  public boolean ended(int n) {
    return ended.contains(n);
  }

  /** What undoing {@code f} takes: a node back, a partition healed, S3 healthy again. */
  private void undo(Fault f) {
    try {
      int n = f.node();
      switch (f.action()) {
        case KILL, TERM -> {
          String problem = restart(n);
          record.accept(new Event.Fault(clock.getAsLong(), "restart node " + n + " (end of " + f.describe() + ")",
              Action.RESTART.id(), n, problem == null, problem == null ? "" : problem));
        }
        case STOP -> {
          boolean was;
          synchronized (this) {
            was = stopped.remove(n);
          }
          if (was) {
            nodes.signal(n, "CONT");
          }
          record.accept(new Event.Fault(clock.getAsLong(), "cont node " + n + " (end of " + f.describe() + ")",
              Action.CONT.id(), n, was, was ? "" : "node " + n + " was not stopped any more"));
        }
        case PARTITION -> {
          String problem = partitions.heal(n);
          record.accept(new Event.Fault(clock.getAsLong(), "heal node " + n + " (end of " + f.describe() + ")",
              Action.HEAL.id(), n, problem == null, problem == null ? "" : problem));
        }
        default -> {
          if (f.action().s3()) {
            proxy.plan(FaultPlan.none());
            long faulted = proxy.injected().values().stream().mapToLong(Long::longValue).sum() - injectedBefore;
            // an S3 fault that faulted no request did not happen, whatever was set up for it
            record.accept(new Event.Fault(clock.getAsLong(), "s3 healthy (end of " + f.describe() + ")", "s3-heal", 0,
                faulted > 0, (faulted > 0 ? "" : Event.Fault.MISSED + f.describe() + " faulted no request: ")
                    + faulted + " request(s) faulted"));
          }
        }
      }
    } catch (Exception e) {
      record.accept(new Event.Fault(clock.getAsLong(), "undo " + f.describe(), f.action().id(), f.node(), false,
          "failed: " + e));
    }
  }

  private void record(Fault f, long t, boolean applied, String detail) {
    record.accept(new Event.Fault(t, f.describe(), f.action().id(), f.node(), applied, detail));
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
