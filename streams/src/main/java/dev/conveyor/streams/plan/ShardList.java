package dev.conveyor.streams.plan;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/** The shards a job names, parsed from its pattern: all under one scheme, {@code s3://} or {@code file://}. */
public record ShardList(String scheme, List<URI> shards) {
  public ShardList {
    shards = List.copyOf(shards);
  }

  /** Expands {@code pattern} and checks every shard is a readable URI of one supported scheme. */
  public static ShardList parse(String pattern) {
    List<String> names = BraceExpansion.expand(pattern.trim());
    List<URI> uris = new ArrayList<>(names.size());
    String scheme = null;
    for (String name : names) {
      URI uri = toUri(name);
      if (scheme == null) {
        scheme = uri.getScheme();
      } else if (!scheme.equals(uri.getScheme())) {
        throw new IllegalArgumentException("shards mix schemes " + scheme + ":// and " + uri.getScheme() + ":// — use one");
      }
      uris.add(uri);
    }
    return new ShardList(scheme, uris);
  }

  /** The shard's file name, e.g. {@code part-000003.tar}. */
  public static String name(URI shard) {
    String path = shard.getPath();
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static URI toUri(String name) {
    URI uri;
    try {
      uri = new URI(name);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("shard \"" + name + "\" is not a URI: " + e.getMessage());
    }
    if ("s3".equals(uri.getScheme())) {
      if (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2) {
        throw new IllegalArgumentException("shard \"" + name + "\" must look like s3://bucket/key");
      }
      return uri;
    }
    if ("file".equals(uri.getScheme())) {
      if (uri.getAuthority() != null || uri.getPath() == null || !uri.getPath().startsWith("/")) {
        throw new IllegalArgumentException("shard \"" + name + "\" must be an absolute file:///path (three slashes)");
      }
      return uri;
    }
    throw new IllegalArgumentException("shard \"" + name + "\" needs an s3:// or file:/// scheme");
  }
}
