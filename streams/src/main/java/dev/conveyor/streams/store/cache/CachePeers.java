package dev.conveyor.streams.store.cache;

import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.util.ByteString;

/**
 * The cluster tier as a node's cache sees it: which nodes own an entry (by a ring over the
 * cluster's members, the primary first, then its replicas; this node may be one of them), and
 * a way to ask one of them for the entry's bytes. Implemented by the orchestrator, which knows
 * the members.
 */
public interface CachePeers {
  /** This node's name in {@link #owners}. */
  String self();

  /** The nodes that hold {@code key}, primary first. */
  List<String> owners(CacheKey key);

  /**
   * {@code key}'s bytes from {@code node}, which fetches them from {@code uri} on a miss; fails
   * when the node is gone or cannot answer.
   */
  CompletionStage<ByteString> fetch(String node, CacheKey key, URI uri, String tenant, String job);

  /** Tells {@code node}, a replica of {@code key}, to take a copy from the primary (nothing waits for it). */
  void replicate(String node, CacheKey key, URI uri, String tenant, String job);
}
