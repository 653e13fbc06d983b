package dev.conveyor.streams.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Pixel truth: decoded frames are the frames the sampling chose, decoded images have the expected colours where expected. */
class DecodersTest {
  static byte[] clip60;
  static byte[] clip400;

  @BeforeAll
  static void media() throws Exception {
    clip60 = TestMedia.numberedClip(60, 30, 96, 64);
    clip400 = TestMedia.numberedClip(400, 25, 64, 48);
  }

  static DecodeSettings settings(String hocon) {
    return DecodeSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  static int[] framesSeen(VideoDecoder.DecodedClip c) {
    int[] seen = new int[c.frames()];
    int frame = c.height() * c.width() * 3;
    int centre = (c.height() / 2 * c.width() + c.width() / 2) * 3;
    for (int t = 0; t < c.frames(); t++) {
      int i = t * frame + centre;
      seen[t] = TestMedia.frameOf(c.rgb()[i] & 0xff, c.rgb()[i + 1] & 0xff, c.rgb()[i + 2] & 0xff);
    }
    return seen;
  }

  @Test
  void uniformSamplingDecodesExactlyTheFramesItChose() throws Exception {
    DecodeSettings s = settings("conveyor.decode.video { frames = 6, short-side = 48, crop-height = 48, crop-width = 48 }");
    VideoDecoder.DecodedClip c = new VideoDecoder(s).decode(clip60, new SplittableRandom(1));
    assertThat(c.frameIndices()).containsExactly(5, 15, 25, 35, 45, 55);
    assertThat(framesSeen(c)).containsExactly(c.frameIndices());
    assertThat(c.rgb()).hasSize(6 * 48 * 48 * 3);
  }

  @Test
  void strideSamplingStartsAtASeededFrameAndSeeksInLongClips() throws Exception {
    DecodeSettings s = settings("conveyor.decode.video { frames = 4, sampling = stride, stride = 3, short-side = 48, crop-height = 48, crop-width = 48 }");
    VideoDecoder.DecodedClip a = new VideoDecoder(s).decode(clip400, new SplittableRandom(42));
    VideoDecoder.DecodedClip b = new VideoDecoder(s).decode(clip400, new SplittableRandom(42));
    assertThat(a.frameIndices()).isEqualTo(b.frameIndices());
    assertThat(a.rgb()).isEqualTo(b.rgb());
    int start = a.frameIndices()[0];
    assertThat(a.frameIndices()).containsExactly(start, start + 3, start + 6, start + 9);
    assertThat(framesSeen(a)).containsExactly(a.frameIndices()); // 400 frames >> 8 x 4 wanted: the seeking path
    VideoDecoder.DecodedClip other = new VideoDecoder(s).decode(clip400, new SplittableRandom(43));
    assertThat(other.frameIndices()[0]).isNotEqualTo(start);
  }

  @Test
  void aClipShorterThanTheFramesWantedIsPaddedWithItsLastFrameOrSkipped() throws Exception {
    byte[] short5 = TestMedia.numberedClip(5, 5, 32, 32);
    DecodeSettings pad = settings("conveyor.decode.video { frames = 8, short-side = 32, crop-height = 32, crop-width = 32 }");
    VideoDecoder.DecodedClip c = new VideoDecoder(pad).decode(short5, new SplittableRandom(1));
    assertThat(c.frameIndices()).containsExactly(0, 1, 2, 3, 4, 4, 4, 4);
    assertThat(framesSeen(c)).containsExactly(0, 1, 2, 3, 4, 4, 4, 4);
    DecodeSettings skip = settings("conveyor.decode.video { frames = 8, short-clips = skip }");
    assertThatThrownBy(() -> new VideoDecoder(skip).decode(short5, new SplittableRandom(1)))
        .isInstanceOf(DecodeException.class).hasMessageContaining("fewer than video.frames 8");
  }

  @Test
  void imagesAreResizedByTheShorterSideAndCentreCroppedWithKnownColoursAtKnownPoints() throws Exception {
    byte[] png = TestMedia.halvesPng(200, 100);
    DecodeSettings s = settings("conveyor.decode.image { short-side = 50, crop-height = 50, crop-width = 50 }");
    ImageDecoder.DecodedImage d = new ImageDecoder(s).decode(png, new SplittableRandom(1));
    assertThat(d.originalWidth()).isEqualTo(200);
    assertThat(d.originalHeight()).isEqualTo(100);
    // resized to 100 x 50; the centre crop spans x 25..74: red until the middle (x 50), blue after
    assertThat(pixel(d, 25, 5)).containsExactly(255, 0, 0);
    assertThat(pixel(d, 25, 45)).containsExactly(0, 0, 255);
  }

  @Test
  void aSeededFlipIsTheSameForTheSameSeedAndMirrorsThePicture() throws Exception {
    byte[] png = TestMedia.halvesPng(200, 100);
    DecodeSettings s = settings("conveyor.decode { image { short-side = 50, crop-height = 50, crop-width = 50 }, augment.horizontal-flip = true }");
    int flipped = 0;
    for (long seed = 0; seed < 16; seed++) {
      ImageDecoder.DecodedImage a = new ImageDecoder(s).decode(png, new SplittableRandom(seed));
      ImageDecoder.DecodedImage b = new ImageDecoder(s).decode(png, new SplittableRandom(seed));
      assertThat(a.rgb()).isEqualTo(b.rgb());
      if (pixel(a, 25, 5)[2] == 255) {
        flipped++;
        assertThat(pixel(a, 25, 45)).containsExactly(255, 0, 0);
      }
    }
    assertThat(flipped).isBetween(1, 15);
  }

  @Test
  void textIsStrictUtf8AndJsonIsReducedToTheChosenFields() throws Exception {
    DecodeSettings s = settings("conveyor.decode.text.fields = [caption, label]");
    RawSample raw = new RawSample("s", "k", List.of(
        new Member("json", ByteString.fromString("{\"caption\": \"a cat\", \"label\": 3, \"width\": 9}")),
        new Member("txt", ByteString.fromString("héllo"))));
    RawSample d = new SampleDecoder(s).decode(raw, new SplittableRandom(1));
    assertThat(d.decoded().orElseThrow().text()).containsEntry("json", "{\"caption\":\"a cat\",\"label\":3}").containsEntry("txt", "héllo");
    RawSample bad = new RawSample("s", "k", List.of(new Member("txt", ByteString.fromArray(new byte[] {(byte) 0xC3, 0x28}))));
    assertThatThrownBy(() -> new SampleDecoder(s).decode(bad, new SplittableRandom(1))).hasMessageContaining("not valid UTF-8");
  }

  @Test
  void aDecodedSampleGoesOnWithoutTheMembersItsTensorsCameFromAndWithTheSameDigest() throws Exception {
    byte[] jpeg = TestMedia.quadrantsJpeg(64, 48);
    RawSample raw = new RawSample("s", "k", List.of(
        new Member("jpg", ByteString.fromArray(jpeg)),
        new Member("json", ByteString.fromString("{\"caption\": \"quadrants\"}")),
        new Member("mp4", ByteString.fromArray(clip60)),
        new Member("seg.png", ByteString.fromArray(TestMedia.halvesPng(8, 8))), // a second image: not decoded, kept
        new Member("bin", ByteString.fromString("opaque"))));
    DecodeSettings s = settings("conveyor.decode { image { short-side = 32, crop-height = 32, crop-width = 32 },"
        + " video { frames = 2, short-side = 32, crop-height = 32, crop-width = 32 } }");
    RawSample decoded = new SampleDecoder(s).decode(raw, new SplittableRandom(1));
    RawSample sent = (RawSample) new SampleDecoding(s, 7, java.util.Optional.empty()).apply(0, raw);
    assertThat(sent.members()).extracting(Member::ext).containsExactly("json", "seg.png", "bin");
    assertThat(sent.decoded().orElseThrow().image()).isPresent();
    assertThat(sent.decoded().orElseThrow().video()).isPresent();
    assertThat(sent.bytes()).as("the compressed picture and clip are gone").isEqualTo(raw.bytes() - jpeg.length - clip60.length);
    // the digest of a decoded sample is its tensors and its text: the same with or without the media members
    RawSample sameDecoding = (RawSample) new SampleDecoding(s, 7, java.util.Optional.empty()).apply(0, raw);
    RawSample unstripped = new RawSample(sent.shard(), sent.key(), raw.members(), sameDecoding.decoded());
    assertThat(dev.conveyor.streams.batch.BatchDigest.of(new dev.conveyor.streams.batch.RawBatch(0, 0, 0, 0, List.of(sent))))
        .isEqualTo(dev.conveyor.streams.batch.BatchDigest.of(
            new dev.conveyor.streams.batch.RawBatch(0, 0, 0, 0, List.of(unstripped))));
    assertThat(decoded.members()).as("SampleDecoder itself keeps them, for the author's map").hasSize(5);
  }

  static int[] pixel(ImageDecoder.DecodedImage d, int y, int x) {
    int i = (y * d.width() + x) * 3;
    return Arrays.stream(new int[] {d.rgb()[i] & 0xff, d.rgb()[i + 1] & 0xff, d.rgb()[i + 2] & 0xff}).toArray();
  }
}
