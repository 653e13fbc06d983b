package dev.conveyor.orchestrator.node;

import dev.conveyor.streams.store.ReaderMetrics;
import dev.conveyor.workers.decoder.DecoderPool;
import dev.conveyor.workers.reader.LeasedSlices;
import dev.conveyor.workers.reader.ShardReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * What this node is doing, as its HTTP endpoints show it ({@code /metrics}, {@code /status}):
 * its roles, the shard readers it serves leases from, the ranks it runs, and the job it
 * coordinates. The actors that do the work register their counters here; the endpoints read
 * them when asked. One per actor system (a Pekko extension). The last {@link #KEPT_JOBS} jobs
 * are remembered, so that counters keep counting across jobs.
 */
public final class NodeState implements Extension {
  public static final Id ID = new Id();
  static final int KEPT_JOBS = 16;

  /** The extension's id: one {@link NodeState} per actor system. */
  public static final class Id extends AbstractExtensionId<NodeState> {
    @Override
    public NodeState createExtension(ExtendedActorSystem system) {
      return new NodeState();
    }
  }

  public static NodeState get(ActorSystem<?> system) {
    return ID.get(Adapter.toClassic(system));
  }

  private final dev.conveyor.workers.feeder.TrainerHold trainerHold = new dev.conveyor.workers.feeder.TrainerHold();

  /** Where this node's stand-in trainers stop (a simulation's fault points; nowhere otherwise). */
  public dev.conveyor.workers.feeder.TrainerHold trainerHold() {
    return trainerHold;
  }

  /** A shard reader of a job, and the store it reads through. */
  public record Reader(String job, ShardReader.Stats stats, Supplier<ReaderMetrics.Snapshot> store) {}

  /** A rank running here: what it delivered, where it is, and how its leases went. */
  public static final class Rank {
    final String job;
    final int rank;
    final LeasedSlices.Stats leases;
    final AtomicLong batches = new AtomicLong();
    final AtomicLong samples = new AtomicLong();
    final AtomicLong bytesDelivered = new AtomicLong();
    final AtomicLong bytesReceived = new AtomicLong();
    volatile int epoch = -1;
    volatile long lastBatch = -1;
    volatile String state = "running";
    private volatile java.util.function.DoubleSupplier stall = () -> 0;
    private volatile java.util.function.DoubleSupplier stallSeconds = () -> 0;
    volatile java.util.function.IntSupplier ready = () -> 0;
    /** A mix's sources, by name, and what each gave the batches delivered (none without a mix). */
    volatile List<String> sourceNames = List.of();
    private dev.conveyor.streams.batch.SourceCounts sources = dev.conveyor.streams.batch.SourceCounts.NONE;

    Rank(String job, int rank, LeasedSlices.Stats leases) {
      this.job = job;
      this.rank = rank;
      this.leases = leases;
    }

    /** Sample bytes of events that arrived from the readers. */
    public void received(long bytes) {
      bytesReceived.addAndGet(bytes);
    }

    /** Batch {@code index} of {@code epoch}, with {@code samples} samples of {@code bytes} bytes, was delivered. */
    public void delivered(int epoch, long index, int samples, long bytes) {
      delivered(epoch, index, samples, bytes, dev.conveyor.streams.batch.SourceCounts.NONE);
    }

    /** The same, the batch's samples by source of the mix named {@code sourceNames}. */
    public void delivered(int epoch, long index, int samples, long bytes, dev.conveyor.streams.batch.SourceCounts bySource) {
      synchronized (this) {
        sources = sources.plus(bySource);
      }
      this.epoch = epoch;
      this.lastBatch = index;
      batches.incrementAndGet();
      this.samples.addAndGet(samples);
      bytesDelivered.addAndGet(bytes);
    }

    /**
     * Where the trainer's stall is measured: its time waiting for a batch so far (seconds), and
     * that ÷ wall time since its first batch.
     */
    public void stallFrom(java.util.function.DoubleSupplier seconds, java.util.function.DoubleSupplier ratio) {
      this.stallSeconds = seconds;
      this.stall = ratio;
    }

    /** What each source of the mix gave the batches delivered so far. */
    public synchronized dev.conveyor.streams.batch.SourceCounts sources() {
      return sources;
    }

    /** The names of the mix's sources, for the metrics. */
    public void sourceNames(List<String> names) {
      this.sourceNames = List.copyOf(names);
    }

    public double stallSeconds() {
      return stallSeconds.getAsDouble();
    }

    public double stallRatio() {
      return stall.getAsDouble();
    }

    /** Where the rank's prefetch ring says how full it is. */
    public void ring(java.util.function.IntSupplier ready) {
      this.ready = ready;
    }

    /** The rank ended: "done", or the reason it failed. */
    public void ended(String state) {
      this.state = state;
    }

    /** Sample bytes held here: arrived and not yet delivered in a batch (0 once the rank ended). */
    long buffered() {
      return "running".equals(state) ? Math.max(0, bytesReceived.get() - bytesDelivered.get()) : 0;
    }
  }

  /** The job this node coordinates: its cursor now, and whether that is the one saved. */
  public record Coordinated(String job, String cursor, boolean persisted) {}

  private final Map<String, Reader> readers = lastOf(KEPT_JOBS);
  private final Map<String, DecoderPool.Stats> decoders = lastOf(KEPT_JOBS);
  private final Map<String, Rank> ranks = lastOf(KEPT_JOBS * 8);
  private final Map<String, List<dev.conveyor.workers.pool.PoolStats>> pools = lastOf(KEPT_JOBS);
  private final Map<String, dev.conveyor.workers.pool.PoolRouter.Stats> routes = lastOf(KEPT_JOBS);
  private volatile Set<String> roles = Set.of();
  private volatile Coordinated coordinated;
  private final java.util.concurrent.atomic.AtomicLong takeovers = new java.util.concurrent.atomic.AtomicLong();

  private static <V> Map<String, V> lastOf(int n) {
    return java.util.Collections.synchronizedMap(new LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > n;
      }
    });
  }

  private volatile dev.conveyor.orchestrator.cache.NodeCaches cache;
  private volatile String http;

  /** This node serves HTTP at {@code url}. */
  public void http(String url) {
    this.http = url.endsWith("/") ? url : url + "/";
  }

  /** Where this node serves HTTP ({@code http://host:port/}), once it does. */
  public java.util.Optional<String> http() {
    return java.util.Optional.ofNullable(http);
  }

  /** This node's shard cache (a worker with the cache enabled). */
  public void cache(dev.conveyor.orchestrator.cache.NodeCaches cache) {
    this.cache = cache;
  }

  public java.util.Optional<dev.conveyor.orchestrator.cache.NodeCaches> cache() {
    return java.util.Optional.ofNullable(cache);
  }

  public void roles(Set<String> roles) {
    this.roles = Set.copyOf(roles);
  }

  public Set<String> roles() {
    return roles;
  }

  public void reader(String job, ShardReader.Stats stats, Supplier<ReaderMetrics.Snapshot> store) {
    readers.put(job, new Reader(job, stats, store));
  }

  /** What the store of this node's reader for {@code job} did, if the node reads for it. */
  public java.util.Optional<ReaderMetrics.Snapshot> reads(String job) {
    Reader r = readers.get(job);
    return r == null ? java.util.Optional.empty() : java.util.Optional.of(r.store().get());
  }

  public void decoders(String job, DecoderPool.Stats stats) {
    decoders.put(job, stats);
  }

  /** {@code job}'s actor pools on this node, in the pipeline's order. */
  public void pools(String job, List<dev.conveyor.workers.pool.PoolStats> stats) {
    pools.put(job, List.copyOf(stats));
  }

  /** The actor pools of the jobs this node remembers, by job (the latest job last). */
  public Map<String, List<dev.conveyor.workers.pool.PoolStats>> pools() {
    synchronized (pools) {
      return new LinkedHashMap<>(pools);
    }
  }

  /** {@code job}'s router here, sending its samples to other workers' pools (this one cannot host them). */
  public void routes(String job, dev.conveyor.workers.pool.PoolRouter.Stats stats) {
    routes.put(job, stats);
  }

  /** The routers of the jobs this node remembers, by job (the latest job last). */
  public Map<String, dev.conveyor.workers.pool.PoolRouter.Stats> routes() {
    synchronized (routes) {
      return new LinkedHashMap<>(routes);
    }
  }

  /** Decoders restarted by their supervisors, over the jobs this node remembers. */
  public long decoderRestarts() {
    return decoders().stream().mapToLong(DecoderPool.Stats::restarts).sum();
  }

  List<DecoderPool.Stats> decoders() {
    synchronized (decoders) {
      return new ArrayList<>(decoders.values());
    }
  }

  public Rank rank(String job, int rank, LeasedSlices.Stats leases) {
    Rank r = new Rank(job, rank, leases);
    ranks.put(job + "/" + rank, r);
    return r;
  }

  public void coordinating(String job, String cursor, boolean persisted) {
    coordinated = new Coordinated(job, cursor, persisted);
  }

  public void notCoordinating() {
    coordinated = null;
  }

  /** This node's coordinator took a job over from a lost one. */
  public void tookOver() {
    takeovers.incrementAndGet();
  }

  long takeovers() {
    return takeovers.get();
  }

  List<Reader> readers() {
    synchronized (readers) {
      return new ArrayList<>(readers.values());
    }
  }

  List<Rank> ranks() {
    synchronized (ranks) {
      return new ArrayList<>(ranks.values());
    }
  }

  Coordinated coordinated() {
    return coordinated;
  }
}
