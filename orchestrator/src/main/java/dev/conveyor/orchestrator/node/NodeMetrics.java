package dev.conveyor.orchestrator.node;

import dev.conveyor.streams.store.ReaderMetrics;
import dev.conveyor.workers.decoder.DecoderPool;
import dev.conveyor.workers.pool.PoolRouter;
import dev.conveyor.workers.pool.PoolStats;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.exporter.common.TextFormat;
import io.prometheus.client.hotspot.GarbageCollectorExports;
import io.prometheus.client.hotspot.MemoryPoolsExports;
import io.prometheus.client.hotspot.StandardExports;
import io.prometheus.client.hotspot.ThreadExports;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A node's metrics in Prometheus' text format: its readers' leases, events and bytes, its
 * ranks' batches, bytes and buffered bytes, the leases they took, its stores' S3 figures, the
 * cluster's members, and the JVM's memory, GC and threads. Read from {@link NodeState} when
 * scraped: counters are totals over the jobs the node remembers.
 */
final class NodeMetrics extends Collector {
  private final NodeState state;
  private final Cluster cluster;
  private final CollectorRegistry registry = new CollectorRegistry(true);

  NodeMetrics(NodeState state, Cluster cluster) {
    this.state = state;
    this.cluster = cluster;
    registry.register(this);
    new StandardExports().register(registry);
    new MemoryPoolsExports().register(registry);
    new GarbageCollectorExports().register(registry);
    new ThreadExports().register(registry);
  }

  /** The exposition text. */
  String scrape() {
    StringWriter w = new StringWriter();
    try {
      TextFormat.write004(w, registry.metricFamilySamples());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  @Override
  public List<MetricFamilySamples> collect() {
    List<MetricFamilySamples> out = new ArrayList<>();
    GaugeMetricFamily members = new GaugeMetricFamily("conveyor_cluster_members", "Cluster members by status.",
        List.of("status"));
    Map<String, Long> byStatus = new TreeMap<>();
    for (Member m : cluster.state().getMembers()) {
      byStatus.merge(m.status().toString().toLowerCase(Locale.ROOT), 1L, Long::sum);
    }
    byStatus.forEach((s, n) -> members.addMetric(List.of(s), n));
    out.add(members);
    out.add(new GaugeMetricFamily("conveyor_cluster_unreachable", "Members this node sees as unreachable.",
        cluster.state().getUnreachable().size()));

    List<NodeState.Reader> readers = state.readers();
    out.add(counter("conveyor_reader_leases_total", "Leases served by this node's shard readers.", readers, r -> r.stats().leases()));
    out.add(counter("conveyor_reader_events_total", "Events sent in lease streams.", readers, r -> r.stats().events()));
    out.add(counter("conveyor_reader_bytes_total", "Sample bytes (members and tensors) sent in lease streams.", readers, r -> r.stats().bytes()));
    out.add(counter("conveyor_reader_handed_back_total", "Lease streams handed back (the node leaving).", readers,
        r -> r.stats().handedBack()));
    out.add(gauge("conveyor_reader_open_leases", "Lease streams running now.", readers, r -> r.stats().open()));
    List<ReaderMetrics.Snapshot> stores = readers.stream().map(r -> r.store().get()).toList();
    out.add(counter("conveyor_store_bytes_read_total", "Bytes read from the shard store.", stores, ReaderMetrics.Snapshot::bytes));
    out.add(counter("conveyor_store_requests_total", "Requests to the shard store.", stores, ReaderMetrics.Snapshot::requests));
    CounterMetricFamily retries = new CounterMetricFamily("conveyor_store_retries_total",
        "Store requests retried, by cause.", List.of("cause"));
    for (ReaderMetrics.Cause c : ReaderMetrics.Cause.values()) {
      retries.addMetric(List.of(c.name().toLowerCase(Locale.ROOT)),
          stores.stream().mapToLong(s -> s.retries().getOrDefault(c, 0L)).sum());
    }
    out.add(retries);
    out.add(counter("conveyor_store_resumes_total", "Reads resumed mid-body.", stores, ReaderMetrics.Snapshot::resumes));
    out.add(counter("conveyor_store_failed_reads_total", "Reads given up.", stores, ReaderMetrics.Snapshot::failedReads));
    out.add(counter("conveyor_store_breaker_openings_total", "Times a circuit breaker opened.", stores,
        ReaderMetrics.Snapshot::breakerOpens));
    out.add(counter("conveyor_store_integrity_failures_total", "Shards whose bytes did not match the manifest.", stores,
        ReaderMetrics.Snapshot::integrityFailures));
    List<DecoderPool.Stats> decoders = state.decoders();
    out.add(counter("conveyor_decoder_samples_total", "Samples decoded (and mapped) by this node's decoder pools.",
        decoders, DecoderPool.Stats::decoded));
    out.add(counter("conveyor_decoder_dead_letters_total", "Samples the decoders could not decode or map.", decoders,
        DecoderPool.Stats::deadLetters));
    CounterMetricFamily restarts = new CounterMetricFamily("conveyor_actor_restarts_total",
        "Actors restarted by their supervisor, by kind.", List.of("actor"));
    restarts.addMetric(List.of("decoder"), decoders.stream().mapToLong(DecoderPool.Stats::restarts).sum());
    restarts.addMetric(List.of("shard-reader"), readers.stream().mapToLong(r -> r.stats().restarts()).sum());
    restarts.addMetric(List.of("pool-actor"), state.pools().values().stream().flatMap(List::stream)
        .mapToLong(PoolStats::restarts).sum());
    out.add(restarts);
    pools(state.pools(), out);
    routes(state.routes(), out);

    List<NodeState.Rank> ranks = state.ranks();
    // what is on its way across the network is sum(conveyor_reader_bytes_total) over the workers
    // minus sum(conveyor_rank_received_bytes_total) over the trainer hosts
    out.add(counter("conveyor_rank_received_bytes_total", "Sample bytes that arrived from the readers.", ranks,
        r -> r.bytesReceived.get()));
    out.add(new GaugeMetricFamily("conveyor_rank_buffered_bytes",
        "Sample bytes that arrived from the readers and are not yet delivered in a batch.",
        ranks.stream().mapToLong(NodeState.Rank::buffered).sum()));

    CounterMetricFamily batches = new CounterMetricFamily("conveyor_rank_batches_total", "Batches delivered, by rank.",
        List.of("rank"));
    CounterMetricFamily samples = new CounterMetricFamily("conveyor_rank_samples_total", "Samples delivered, by rank.",
        List.of("rank"));
    CounterMetricFamily bytes = new CounterMetricFamily("conveyor_rank_bytes_total", "Sample bytes delivered, by rank.",
        List.of("rank"));
    Map<Integer, long[]> perRank = new TreeMap<>();
    for (NodeState.Rank r : ranks) {
      long[] t = perRank.computeIfAbsent(r.rank, k -> new long[3]);
      t[0] += r.batches.get();
      t[1] += r.samples.get();
      t[2] += r.bytesDelivered.get();
    }
    perRank.forEach((r, t) -> {
      batches.addMetric(List.of(Integer.toString(r)), t[0]);
      samples.addMetric(List.of(Integer.toString(r)), t[1]);
      bytes.addMetric(List.of(Integer.toString(r)), t[2]);
    });
    out.addAll(sources(ranks));
    GaugeMetricFamily stall = new GaugeMetricFamily("conveyor_feeder_stall_ratio",
        "Time a running rank's trainer waited for its next batch ÷ wall time since the first, by rank.", List.of("rank"));
    for (NodeState.Rank r : ranks) {
      if ("running".equals(r.state)) {
        stall.addMetric(List.of(Integer.toString(r.rank)), r.stallRatio());
      }
    }
    out.add(stall);
    CounterMetricFamily stallSeconds = new CounterMetricFamily("conveyor_feeder_stall_seconds_total",
        "Time the ranks' trainers waited for their next batch, by rank.", List.of("rank"));
    Map<Integer, Double> waited = new TreeMap<>();
    ranks.forEach(r -> waited.merge(r.rank, r.stallSeconds(), Double::sum));
    waited.forEach((r, sec) -> stallSeconds.addMetric(List.of(Integer.toString(r)), sec));
    out.add(stallSeconds);
    GaugeMetricFamily ring = new GaugeMetricFamily("conveyor_feeder_ring_events",
        "Events (batches, skips) waiting in a running rank's prefetch ring, by rank: the queue before its trainer.",
        List.of("rank"));
    for (NodeState.Rank r : ranks) {
      if ("running".equals(r.state)) {
        ring.addMetric(List.of(Integer.toString(r.rank)), r.ready.getAsInt());
      }
    }
    out.add(ring);
    out.add(batches);
    out.add(samples);
    out.add(bytes);
    out.add(counter("conveyor_leases_total", "Slices this node's ranks leased to readers.", ranks, r -> r.leases.leases()));
    out.add(counter("conveyor_leases_reassigned_total", "Slices leased again after a reader failed.", ranks,
        r -> r.leases.reassigned()));
    out.add(counter("conveyor_leases_handed_back_total", "Slices leased elsewhere after a leaving reader handed them back.",
        ranks, r -> r.leases.handedBack()));
    out.add(counter("conveyor_lease_duplicates_dropped_total", "Events a new lease repeated, dropped.", ranks,
        r -> r.leases.duplicatesDropped()));
    out.add(new GaugeMetricFamily("conveyor_coordinator_jobs", "Jobs this node coordinates (0 or 1).",
        state.coordinated() == null ? 0 : 1));
    out.add(new CounterMetricFamily("conveyor_coordinator_takeovers_total",
        "Jobs this node's coordinator took over from a lost or leaving one.", state.takeovers()));
    state.cache().ifPresent(c -> cache(c, out));
    return out;
  }

  /** The shard cache's counters, per tenant, and its limiter and ring. */
  /** A mix's counts by source name, over the ranks this node serves: samples delivered, left out by a filter, bad. */
  private static List<MetricFamilySamples> sources(List<NodeState.Rank> ranks) {
    Map<String, long[]> bySource = new TreeMap<>();
    for (NodeState.Rank r : ranks) {
      dev.conveyor.streams.batch.SourceCounts c = r.sources();
      List<String> names = r.sourceNames;
      for (int s = 0; s < c.sources() && s < names.size(); s++) {
        long[] t = bySource.computeIfAbsent(names.get(s), k -> new long[3]);
        t[0] += c.samples()[s];
        t[1] += c.filtered()[s];
        t[2] += c.bad()[s];
      }
    }
    CounterMetricFamily samples = new CounterMetricFamily("conveyor_source_samples_total",
        "Samples a mix's source gave the batches delivered, by source.", List.of("source"));
    CounterMetricFamily filtered = new CounterMetricFamily("conveyor_source_filtered_total",
        "Samples of a mix's source a filter left out, by source.", List.of("source"));
    CounterMetricFamily bad = new CounterMetricFamily("conveyor_source_bad_total",
        "Samples of a mix's source skipped as bad, by source.", List.of("source"));
    bySource.forEach((name, t) -> {
      samples.addMetric(List.of(name), t[0]);
      filtered.addMetric(List.of(name), t[1]);
      bad.addMetric(List.of(name), t[2]);
    });
    return List.of(samples, filtered, bad);
  }

  private static void cache(dev.conveyor.orchestrator.cache.NodeCaches caches, List<MetricFamilySamples> out) {
    var metrics = caches.cache().metrics();
    var byTenant = metrics.byTenant();
    List<String> tenant = List.of("tenant");
    record Family(String name, String help, ToLongFunction<dev.conveyor.streams.store.cache.CacheMetrics.Snapshot> f) {}
    for (Family f : List.of(
        new Family("conveyor_cache_hits_total", "Reads this node's cache served from its disk.", x -> x.hits()),
        new Family("conveyor_cache_misses_total", "Reads that had to go to S3.", x -> x.misses()),
        new Family("conveyor_cache_bytes_from_s3_total", "Bytes the cache fetched from S3.", x -> x.bytesFromS3()),
        new Family("conveyor_cache_bytes_from_peers_total", "Bytes read from other nodes' caches.", x -> x.bytesFromPeers()),
        new Family("conveyor_cache_evictions_total", "Entries given up for room.", x -> x.evictions()),
        new Family("conveyor_cache_corrupt_total", "Entries that failed their checksum and were fetched again.",
            x -> x.corrupt()))) {
      CounterMetricFamily c = new CounterMetricFamily(f.name(), f.help(), tenant);
      byTenant.forEach((t, snap) -> c.addMetric(List.of(t), f.f().applyAsLong(snap)));
      out.add(c);
    }
    GaugeMetricFamily ratio = new GaugeMetricFamily("conveyor_cache_hit_ratio",
        "Hits over hits and misses since the node started.", tenant);
    byTenant.forEach((t, snap) -> ratio.addMetric(List.of(t), snap.hitRatio()));
    out.add(ratio);
    GaugeMetricFamily used = new GaugeMetricFamily("conveyor_cache_bytes", "Bytes of entries held on disk.", tenant);
    caches.cache().usedByTenant().forEach((t, b) -> used.addMetric(List.of(t.isEmpty() ? "(from before)" : t), b));
    out.add(used);
    out.add(new CounterMetricFamily("conveyor_cache_s3_gets_total", "Whole shards the cache fetched from S3.",
        metrics.s3Gets()));
    out.add(new CounterMetricFamily("conveyor_cache_s3_limited_total",
        "Fetches from S3 that waited for the rate limit (the fall-back held back).", metrics.limitedFetches()));
    CounterMetricFamily refused = new CounterMetricFamily("conveyor_cache_peer_refused_total",
        "Owners of an entry this node asked and passed over for the next owner or S3, by why: timeout, failed,"
            + " size or corrupt (bytes that are not the entry's, never kept or served).", List.of("cause"));
    metrics.peerRefusals().forEach((cause, n) -> refused.addMetric(List.of(cause), n));
    out.add(refused);
    out.add(new CounterMetricFamily("conveyor_cache_handed_over_http_total",
        "Entries other nodes took from this one over HTTP.", caches.handedOverHttp()));
    out.add(new GaugeMetricFamily("conveyor_cache_ring_members", "Reachable nodes the cache ring is over.",
        caches.ringMembers().size()));
  }

  /** Each actor pool's figures, labelled by job and stage. */
  private static void pools(Map<String, List<PoolStats>> pools, List<MetricFamilySamples> out) {
    List<String> labels = List.of("job", "stage");
    GaugeMetricFamily size = new GaugeMetricFamily("conveyor_pool_actors", "Actors in an actor pool now.", labels);
    GaugeMetricFamily limit = new GaugeMetricFamily("conveyor_pool_limit",
        "The most actors a pool may have on this node (its max, or what the node's resources hold).", labels);
    GaugeMetricFamily busy = new GaugeMetricFamily("conveyor_pool_busy_fraction", "Busy actors over actors now.",
        labels);
    GaugeMetricFamily queued = new GaugeMetricFamily("conveyor_pool_queued_groups",
        "Groups of samples waiting for an actor now.", labels);
    CounterMetricFamily samples = new CounterMetricFamily("conveyor_stage_samples_total",
        "Samples through an actor-pool stage (its samples/s: the rate of this).", labels);
    CounterMetricFamily dead = new CounterMetricFamily("conveyor_pool_dead_letters_total",
        "Samples an actor-pool stage failed on twice, or could not run.", labels);
    CounterMetricFamily scaled = new CounterMetricFamily("conveyor_pool_scaling_total",
        "Autoscaling decisions, by direction.", List.of("job", "stage", "direction"));
    pools.forEach((job, stats) -> stats.forEach(p -> {
      List<String> l = List.of(job, p.stage());
      size.addMetric(l, p.actors());
      limit.addMetric(l, p.limit());
      busy.addMetric(l, p.busyFraction());
      queued.addMetric(l, p.queued());
      samples.addMetric(l, p.samples());
      dead.addMetric(l, p.deadLetters());
      scaled.addMetric(List.of(job, p.stage(), "up"), p.grown());
      scaled.addMetric(List.of(job, p.stage(), "down"), p.shrunk());
    }));
    out.addAll(List.of(size, limit, busy, queued, samples, dead, scaled));
  }

  /** Each router's figures (a worker sending its samples to other workers' pools), labelled by job. */
  private static void routes(Map<String, PoolRouter.Stats> routes, List<MetricFamilySamples> out) {
    List<String> labels = List.of("job");
    GaugeMetricFamily fronts = new GaugeMetricFamily("conveyor_pool_fronts",
        "Other workers hosting the job's pools that this worker sends its samples to.", labels);
    CounterMetricFamily sent = new CounterMetricFamily("conveyor_pool_routed_samples_total",
        "Samples this worker sent to other workers' pools.", labels);
    GaugeMetricFamily waiting = new GaugeMetricFamily("conveyor_pool_route_waiting_parts",
        "Parts of groups waiting for a worker hosting the pools now.", labels);
    routes.forEach((job, r) -> {
      fronts.addMetric(List.of(job), r.fronts());
      sent.addMetric(List.of(job), r.samplesSent());
      waiting.addMetric(List.of(job), r.waiting());
    });
    out.addAll(List.of(fronts, sent, waiting));
  }

  private static <T> CounterMetricFamily counter(String name, String help, List<T> items, ToLongFunction<T> f) {
    return new CounterMetricFamily(name, help, items.stream().mapToLong(f).sum());
  }

  private static <T> GaugeMetricFamily gauge(String name, String help, List<T> items, ToLongFunction<T> f) {
    return new GaugeMetricFamily(name, help, items.stream().mapToLong(f).sum());
  }
}
