package dev.conveyor.orchestrator.cache;

import dev.conveyor.config.CacheSettings;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.store.ShardCheck;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.cache.CacheKey;
import dev.conveyor.streams.store.cache.CachePeers;
import dev.conveyor.streams.store.cache.CachingStore;
import dev.conveyor.streams.store.cache.DiskTier;
import dev.conveyor.streams.store.cache.NodeCache;
import dev.conveyor.streams.store.cache.SlotRing;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's shard cache in the cluster: its {@link NodeCache} (when {@code conveyor.node.cache}
 * is enabled), its {@link CachePeer} serving other nodes, and the cluster tier — a
 * {@link SlotRing} over the members that serve a cache, reachable ones only, so a node that
 * stops answering hands its share to the next owners at once (and gets it back when it is
 * reachable again). Jobs' stores are wrapped with {@link #wrap}.
 */
public final class NodeCaches implements CachePeer.Owner, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeCaches.class);

  private final ActorSystem<?> system;
  private final CacheSettings settings;
  private final NodeCache cache;
  private final Materializer mat;
  private final Map<String, ActorRef<CachePeer.Command>> peers = new ConcurrentHashMap<>(); // by member address
  private final Map<String, ShardStore> storesByScheme = new ConcurrentHashMap<>();
  private final Function<URI, ShardStore> stores;
  private final Peers peerTier = new Peers();
  private volatile Ring ring = new Ring(Set.of(), null);
  private final java.util.function.Supplier<Optional<String>> httpUrl; // this node's HTTP server, once it serves one
  private final java.util.concurrent.atomic.AtomicLong handedOverHttp = new java.util.concurrent.atomic.AtomicLong();
  private final Map<String, HandOff> handOffs = new ConcurrentHashMap<>(); // by token
  private final java.security.SecureRandom tokens = new java.security.SecureRandom();
  private final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();

  /** An entry waiting to be taken over HTTP by the peer that asked for it. */
  private record HandOff(ByteString bytes, long until) {}

  /** How long a peer has to take an entry handed to it over HTTP. */
  static final Duration HAND_OFF_TIME = Duration.ofSeconds(60);

  private record Ring(Set<String> members, SlotRing slots) {}

  private NodeCaches(ActorSystem<?> system, CacheSettings settings, Function<URI, ShardStore> stores,
                     java.util.function.Supplier<Optional<String>> httpUrl) {
    this.system = system;
    this.httpUrl = httpUrl;
    this.settings = settings;
    this.stores = stores;
    this.mat = Materializer.createMaterializer(system);
    this.cache = new NodeCache(new DiskTier(settings.folder()), new NodeCache.Settings(settings.bytes(),
        settings.policy(), settings.quotas(), settings.maxEntryBytes(), settings.s3GetsPerSecond(),
        settings.sameObjectMillis(), settings.prefetchBytes(), 3 * settings.peerTimeoutMillis()), // ask, then transfer
        Optional.of(peerTier));
    LOG.info("shard cache: {} in {}, policy {}, {} GETs/s to S3 at most, replication {}", settings.bytes(),
        settings.folder(), settings.policy(), settings.s3GetsPerSecond(), settings.replication());
  }

  /**
   * The node's cache when its settings enable one: its peer actor registered, the ring kept
   * over the members that serve one; {@code stores} open the stores misses are read from, and
   * {@code httpUrl} says where this node serves HTTP (peers take entries there), once it does.
   */
  public static Optional<NodeCaches> start(ActorSystem<?> system, CacheSettings settings, Function<URI, ShardStore> stores,
                                           java.util.function.Supplier<Optional<String>> httpUrl) {
    if (!settings.enabled()) {
      return Optional.empty();
    }
    NodeCaches c = new NodeCaches(system, settings, stores, httpUrl);
    system.systemActorOf(CachePeer.create(c, c.mat), "cache-peer", Props.empty());
    system.systemActorOf(Behaviors.<Receptionist.Listing>setup(ctx -> new RingWatch(ctx, c)), "cache-ring", Props.empty());
    system.getWhenTerminated().thenRun(c::close);
    return Optional.of(c);
  }

  /**
   * Keeps {@code caches}' peers the cache peers the receptionist lists, by member address; the
   * map is concurrent because the node's readers look owners up in it.
   */
  private static final class RingWatch extends AbstractBehavior<Receptionist.Listing> {
    private final NodeCaches caches;

    RingWatch(ActorContext<Receptionist.Listing> ctx, NodeCaches caches) {
      super(ctx);
      this.caches = caches;
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(CachePeer.KEY, ctx.getSelf()));
    }

    @Override
    public Receive<Receptionist.Listing> createReceive() {
      return newReceiveBuilder().onAnyMessage(this::onListing).build();
    }

    private Behavior<Receptionist.Listing> onListing(Receptionist.Listing l) {
      Map<String, ActorRef<CachePeer.Command>> now = new TreeMap<>();
      for (ActorRef<CachePeer.Command> ref : l.getServiceInstances(CachePeer.KEY)) {
        now.put(caches.name(ref.path().address()), ref);
      }
      caches.peers.keySet().retainAll(now.keySet());
      caches.peers.putAll(now);
      LOG.info("shard cache ring: {} member(s)", now.size());
      return this;
    }
  }

  public NodeCache cache() {
    return cache;
  }

  /** {@code store} for {@code job} through this node's cache. */
  public ShardStore wrap(ShardStore store, String job, String tenant, DataPlan plan, int world, int epochs,
                         Map<String, ShardCheck> checks) {
    return new CachingStore(store, cache, job, tenant, plan, world, epochs, checks, mat);
  }

  /**
   * Where a peer takes {@code bytes} over HTTP — a one-time URL on this node's HTTP server,
   * valid for {@link #HAND_OFF_TIME} — or empty when this node serves no HTTP.
   */
  @Override
  public Optional<String> handOff(ByteString bytes) {
    Optional<String> served = httpUrl.get();
    if (served.isEmpty()) {
      return Optional.empty();
    }
    String at = served.get();
    long now = System.nanoTime();
    handOffs.values().removeIf(h -> h.until() < now);
    byte[] t = new byte[24];
    tokens.nextBytes(t);
    String token = java.util.HexFormat.of().formatHex(t);
    handOffs.put(token, new HandOff(bytes, now + HAND_OFF_TIME.toNanos()));
    return Optional.of(at + "cache-entry?token=" + token);
  }

  /** The entry handed off under {@code token}, once (an unknown or expired token: empty). */
  public Optional<ByteString> take(String token) {
    HandOff h = handOffs.remove(token);
    if (h == null || h.until() < System.nanoTime()) {
      return Optional.empty();
    }
    handedOverHttp.incrementAndGet();
    return Optional.of(h.bytes());
  }

  /** Entries peers took from this node over HTTP. */
  public long handedOverHttp() {
    return handedOverHttp.get();
  }

  /** {@code key} of object {@code uri} from this node's cache, as a peer asking it would get it. */
  @Override
  public CompletionStage<ByteString> serve(CacheKey key, URI uri, String tenant, String job) {
    return cache.serve(key, uri, tenant, job, () -> CachingStore.fetch(storeFor(uri), uri, key, mat));
  }

  @Override
  public void replicate(CacheKey key, URI uri, String tenant, String job) {
    cache.replicate(key, uri, tenant, job, () -> CachingStore.fetch(storeFor(uri), uri, key, mat));
  }

  /** {@code key} of object {@code uri} from the cache peer on member {@code node}, over Artery (as readers get it). */
  public CompletionStage<ByteString> fetchFrom(String node, CacheKey key, URI uri, String tenant, String job) {
    return peerTier.fetch(node, key, uri, tenant, job);
  }

  /** The members the ring is over now. */
  public Set<String> ringMembers() {
    return current().members();
  }

  private String name(Address a) {
    return (a.hasLocalScope() ? Cluster.get(system).selfMember().address() : a).toString();
  }

  private ShardStore storeFor(URI uri) {
    return storesByScheme.computeIfAbsent(String.valueOf(uri.getScheme()), s -> stores.apply(uri));
  }

  /** The ring over the reachable members that serve a cache, rebuilt when that set changes. */
  private Ring current() {
    Set<String> members = new HashSet<>(peers.keySet());
    for (Member m : Cluster.get(system).state().getUnreachable()) {
      members.remove(m.address().toString());
    }
    members.add(name(Cluster.get(system).selfMember().address()));
    Ring r = ring;
    if (!r.members().equals(members)) {
      r = new Ring(Set.copyOf(members), SlotRing.of(settings.slots(), members));
      ring = r;
    }
    return r;
  }

  /** The cluster tier as the node's cache sees it. */
  private final class Peers implements CachePeers {
    @Override
    public String self() {
      return name(Cluster.get(system).selfMember().address());
    }

    @Override
    public List<String> owners(CacheKey key) {
      return current().slots().owners(key, settings.replication());
    }

    @Override
    public CompletionStage<ByteString> fetch(String node, CacheKey key, URI uri, String tenant, String job) {
      ActorRef<CachePeer.Command> peer = peers.get(node);
      if (peer == null) {
        return CompletableFuture.failedFuture(new IllegalStateException("no cache peer at " + node));
      }
      Duration timeout = Duration.ofMillis(settings.peerTimeoutMillis());
      return AskPattern.<CachePeer.Command, CachePeer.Reply>ask(peer,
              replyTo -> new CachePeer.Fetch(key.toString(), uri.toString(), tenant, job, replyTo), timeout,
              system.scheduler())
          .thenCompose(reply -> {
            if (reply instanceof CachePeer.At at) {
              return http.sendAsync(java.net.http.HttpRequest.newBuilder(URI.create(at.url())).timeout(timeout).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofByteArray()).thenApply(r -> {
                    if (r.statusCode() != 200) {
                      throw new IllegalStateException(node + " did not hand " + key + " over: HTTP " + r.statusCode());
                    }
                    return ByteString.fromArrayUnsafe(r.body());
                  });
            }
            if (reply instanceof CachePeer.Served s) {
              return s.bytes().getSource().runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat);
            }
            throw new IllegalStateException(node + " did not serve " + key + ": " + ((CachePeer.NotServed) reply).reason());
          })
          .toCompletableFuture(); // bounded and checked by the node's cache (NodeCache), whoever its peers are
    }

    @Override
    public void replicate(String node, CacheKey key, URI uri, String tenant, String job) {
      ActorRef<CachePeer.Command> peer = peers.get(node);
      if (peer != null) {
        peer.tell(new CachePeer.Replicate(key.toString(), uri.toString(), tenant, job));
      }
    }
  }

  @Override
  public void close() {
    cache.close();
    storesByScheme.values().forEach(ShardStore::close);
  }
}
