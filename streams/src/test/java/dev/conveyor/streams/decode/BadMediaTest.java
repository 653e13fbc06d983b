package dev.conveyor.streams.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bad-media catalogue, one case per test: each is refused with a reason (which becomes the
 * dead letter), nothing crashes, and what is refused for its size is refused before its pixels
 * are allocated.
 */
class BadMediaTest {
  static final DecodeSettings SETTINGS = DecodeSettings.fromConfig(ConfigFactory.defaultReference());
  static byte[] goodClip;
  static byte[] goodPng;

  @BeforeAll
  static void media() throws Exception {
    goodClip = TestMedia.numberedClip(30, 10, 64, 48);
    goodPng = TestMedia.halvesPng(64, 48);
  }

  static void refused(String ext, byte[] bytes, String reason) {
    RawSample raw = new RawSample("s", "k", List.of(new Member(ext, ByteString.fromArray(bytes))));
    assertThatThrownBy(() -> new SampleDecoder(SETTINGS).decode(raw, new SplittableRandom(1)))
        .isInstanceOf(DecodeException.class).hasMessageStartingWith("." + ext + ": ").hasMessageContaining(reason);
  }

  static byte[] garbage(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  @Test
  void garbageBytesNamedJpg() {
    refused("jpg", garbage(5000), "not a decodable image");
  }

  @Test
  void garbageBytesNamedMp4() {
    refused("mp4", garbage(5000), "not a decodable clip: the container cannot be opened");
  }

  @Test
  void aTruncatedImage() {
    refused("png", Arrays.copyOf(goodPng, goodPng.length / 3), "not a decodable image: the decoder refused the data");
  }

  @Test
  void aTruncatedClip() {
    refused("mp4", Arrays.copyOf(goodClip, goodClip.length / 4),
        "not a decodable clip: the container cannot be opened (FFmpeg error -2): cut short, or not a video file");
  }

  @Test
  void zeroLengthMembers() {
    refused("jpg", new byte[0], "empty image member");
    refused("mp4", new byte[0], "empty video member");
  }

  @Test
  void aPngDeclaring30000By30000IsRefusedFromItsHeaderWithoutAllocatingIt() {
    long before = used();
    refused("png", TestMedia.pngDeclaring(30000, 30000), "declares 30000x30000 pixels, over limits.max-pixels");
    assertThat(used() - before).as("bytes allocated").isLessThan(64L << 20);
  }

  @Test
  void aJpegDeclaring30000By30000IsRefusedFromItsHeaderWithoutAllocatingIt() {
    long before = used();
    refused("jpg", TestMedia.jpegDeclaring(30000, 30000), "declares 30000x30000 pixels");
    assertThat(used() - before).as("bytes allocated").isLessThan(64L << 20);
  }

  @Test
  void aVideoWithNoVideoStream() throws Exception {
    refused("mp4", TestMedia.audioOnly(), "no video stream");
  }

  @Test
  void aClipOverTheFrameLimit() {
    DecodeSettings few = DecodeSettings.fromConfig(ConfigFactory.parseString("conveyor.decode.limits.max-frames = 10")
        .withFallback(ConfigFactory.defaultReference()));
    RawSample raw = new RawSample("s", "k", List.of(new Member("mp4", ByteString.fromArray(goodClip))));
    assertThatThrownBy(() -> new SampleDecoder(few).decode(raw, new SplittableRandom(1)))
        .hasMessageContaining("clip has 30 frames, over limits.max-frames 10");
  }

  private static long used() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }
}
