package dev.conveyor.orchestrator.cache;

import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.streams.store.cache.CacheKey;
import dev.conveyor.streams.store.cache.CachingStore;
import dev.conveyor.streams.store.cache.NodeCache;
import dev.conveyor.workers.wire.WireMessage;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;

/**
 * A node's cache as other nodes reach it: asked for an entry it owns, it answers from its disk
 * (fetching from S3 first on a miss, through its limiter) with a stream of the entry's bytes in
 * chunks, over Artery — the channel the nodes already share, authenticated with them — so no
 * second port or address book is needed. Registered with the receptionist; the members that
 * have one form the cache ring.
 */
public final class CachePeer {
  private CachePeer() {}

  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "conveyor-cache-peer");
  static final int CHUNK = 256 * 1024;

  /** What a peer is asked. */
  public sealed interface Command extends WireMessage permits Fetch, Replicate {}

  /** Asks for entry {@code key} (its text form) of object {@code uri}, read for {@code job} of {@code tenant}. */
  public record Fetch(String key, String uri, String tenant, String job, ActorRef<Reply> replyTo) implements Command {}

  /** Tells a replica of {@code key} to take its copy from the primary, which has just fetched it. */
  public record Replicate(String key, String uri, String tenant, String job) implements Command {}

  /** The answer. */
  public sealed interface Reply extends WireMessage permits Served, NotServed {}

  /** The entry's bytes, in chunks. */
  public record Served(SourceRef<ByteString> bytes) implements Reply {}

  /** Why the entry could not be had here. */
  public record NotServed(String reason) implements Reply {}

  /** Serves entries from {@code cache}, reading misses with {@code stores} (by URI). */
  public static Behavior<Command> create(NodeCache cache, Function<URI, ShardStore> stores, Materializer mat) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return Behaviors.receive(Command.class)
          .onMessage(Replicate.class, r -> {
            try {
              CacheKey key = CacheKey.parse(r.key());
              URI uri = URI.create(r.uri());
              cache.replicate(key, uri, r.tenant(), r.job(), () -> CachingStore.fetch(stores.apply(uri), uri, key, mat));
            } catch (IllegalArgumentException e) {
              ctx.getLog().warn("cache replica request refused: {}", e.getMessage());
            }
            return Behaviors.same();
          })
          .onMessage(Fetch.class, f -> serve(f, cache, stores, mat))
          .build();
    });
  }

  private static Behavior<Command> serve(Fetch f, NodeCache cache, Function<URI, ShardStore> stores, Materializer mat) {
    CacheKey key;
    URI uri;
    try {
      key = CacheKey.parse(f.key());
      uri = URI.create(f.uri());
    } catch (IllegalArgumentException e) {
      f.replyTo().tell(new NotServed(e.getMessage()));
      return Behaviors.same();
    }
    cache.serve(key, uri, f.tenant(), f.job(), () -> CachingStore.fetch(stores.apply(uri), uri, key, mat))
        .thenApply(bytes -> Source.from(chunks(bytes)).runWith(StreamRefs.<ByteString>sourceRef(), mat))
        .whenComplete((ref, err) -> f.replyTo().tell(err == null ? new Served(ref)
            : new NotServed(err instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                ? c.getCause().getMessage() : String.valueOf(err.getMessage()))));
    return Behaviors.same();
  }

  static List<ByteString> chunks(ByteString b) {
    List<ByteString> out = new ArrayList<>(b.size() / CHUNK + 1);
    for (int i = 0; i < b.size(); i += CHUNK) {
      out.add(b.slice(i, Math.min(b.size(), i + CHUNK)));
    }
    return out;
  }
}
