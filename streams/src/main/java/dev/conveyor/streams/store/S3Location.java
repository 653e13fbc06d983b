package dev.conveyor.streams.store;

import java.net.URI;

/** The bucket and key of an {@code s3://bucket/key} URI. */
record S3Location(String bucket, String key) {
  static S3Location of(URI uri) {
    if (!"s3".equals(uri.getScheme()) || uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException("not an s3://bucket/key URI: " + uri);
    }
    String path = uri.getPath();
    String key = path.startsWith("/") ? path.substring(1) : path;
    if (key.isEmpty()) {
      throw new IllegalArgumentException("no object key in " + uri);
    }
    return new S3Location(uri.getHost(), key);
  }
}
