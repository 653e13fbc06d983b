package dev.conveyor.streams.sample;

import static java.util.Objects.requireNonNull;

import org.apache.pekko.util.ByteString;

/**
 * One file of a sample: {@code 000001.seg.jpg} is the member with extension {@code seg.jpg}
 * of sample {@code 000001}.
 */
public record Member(String ext, ByteString data) {
  public Member {
    requireNonNull(ext, "ext is null");
    requireNonNull(data, "data is null");
  }
}
