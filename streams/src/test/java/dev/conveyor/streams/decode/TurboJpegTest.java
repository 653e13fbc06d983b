package dev.conveyor.streams.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.DecodeSettings;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * JPEGs through libjpeg-turbo: the library loads here, the pictures match FFmpeg's decoding of
 * the same bytes (to within the two decoders' rounding) at the exact size, through DCT-domain
 * scaling, a bilinear resize, crops, flips and padding, and bad or cut JPEGs are refused with
 * libjpeg's reason.
 */
class TurboJpegTest {
  static byte[] jpeg;

  @BeforeAll
  static void media() throws Exception {
    jpeg = TestMedia.quadrantsJpeg(256, 192);
  }

  static DecodeSettings settings(String hocon) {
    return DecodeSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  static ImageDecoder.DecodedImage decode(String image, String decoder, long seed) throws DecodeException {
    return new ImageDecoder(settings("conveyor.decode { image { " + image + ", jpeg = " + decoder + " },"
        + " augment { random-crop = true, horizontal-flip = true } }")).decode(jpeg, new SplittableRandom(seed));
  }

  static int[] pixel(ImageDecoder.DecodedImage d, int x, int y) {
    int i = (y * d.width() + x) * 3;
    return new int[] {d.rgb()[i] & 0xff, d.rgb()[i + 1] & 0xff, d.rgb()[i + 2] & 0xff};
  }

  /** The mean absolute difference of two pictures' bytes, and their largest difference. */
  static double[] difference(byte[] a, byte[] b) {
    assertThat(a).hasSameSizeAs(b);
    long sum = 0;
    int max = 0;
    for (int i = 0; i < a.length; i++) {
      int d = Math.abs((a[i] & 0xff) - (b[i] & 0xff));
      sum += d;
      max = Math.max(max, d);
    }
    return new double[] {(double) sum / a.length, max};
  }

  @Test
  void theLibraryLoadsOnThisMachineAndItsCopyInTheTempDirectoryIsGoneOnceLoaded() throws Exception {
    assertThat(TurboJpeg.unavailable()).isEmpty();
    // mapped into this process, its file already deleted: a killed process leaves nothing in /tmp
    assertThat(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")).stream()
        .filter(l -> l.contains("conveyor-jpeg"))).isNotEmpty().allMatch(l -> l.endsWith("(deleted)"));
    assertThat(TurboJpeg.available()).isTrue();
  }

  @Test
  void atEachSizeAndCropThePictureIsWhatFfmpegDecodesFromTheSameBytes() throws Exception {
    String[] sizes = {
        "short-side = 192, crop-height = 192, crop-width = 256", // the whole picture: rows straight into the array
        "short-side = 192, crop-height = 160, crop-width = 160", // a crop at the exact size
        "short-side = 96, crop-height = 96, crop-width = 96",    // half: DCT scaling 4/8, nothing resampled
        "short-side = 120, crop-height = 100, crop-width = 120", // DCT 5/8, then bilinear to 160 x 120
        "short-side = 300, crop-height = 224, crop-width = 224", // larger than the picture: bilinear up
        "short-side = 64, crop-height = 80, crop-width = 64",    // the crop taller than the picture: padded black
    };
    for (String size : sizes) {
      for (long seed = 0; seed < 4; seed++) { // seeded random crops and flips: the same geometry for both decoders
        ImageDecoder.DecodedImage turbo = decode(size, "libjpeg-turbo", seed);
        ImageDecoder.DecodedImage ffmpeg = decode(size, "ffmpeg", seed);
        assertThat(turbo.originalWidth()).isEqualTo(256);
        assertThat(turbo.originalHeight()).isEqualTo(192);
        double[] diff = difference(turbo.rgb(), ffmpeg.rgb());
        assertThat(diff[0]).as("%s, seed %d: mean difference to FFmpeg's pixels (max %.0f)", size, seed, diff[1])
            .isLessThan(3.0);
        assertThat(decode(size, "libjpeg-turbo", seed).rgb()).as("the same again").isEqualTo(turbo.rgb());
      }
    }
  }

  @Test
  void theDctScaleIsTheSmallestEighthThatStillCoversTheSizeWanted() throws Exception {
    int[][] wanted = {{256, 192, 8}, {300, 225, 8}, {200, 150, 7}, {160, 120, 5}, {128, 96, 4}, {64, 48, 2}, {32, 24, 1},
        {20, 15, 1}};
    for (int[] w : wanted) {
      byte[] out = new byte[w[0] * w[1] * 3];
      assertThat(TurboJpeg.decode(jpeg, 256, 192, new Geometry(w[0], w[1], 0, 0, w[0], w[1], false), out))
          .as("%d x %d", w[0], w[1]).isEqualTo(w[2]);
    }
  }

  @Test
  void theQuadrantsAreWhereTheyWereAfterScalingAndTheFlipMirrorsThem() throws Exception {
    DecodeSettings s = settings("conveyor.decode.image { short-side = 48, crop-height = 48, crop-width = 64 }");
    ImageDecoder.DecodedImage d = new ImageDecoder(s).decode(jpeg, new SplittableRandom(1)); // 1/4 by DCT scaling
    assertThat(d.rgb()).hasSize(48 * 64 * 3);
    assertThat(pixel(d, 8, 8)).satisfies(p -> assertThat(p[0]).isGreaterThan(200).isGreaterThan(p[1] + 150));
    assertThat(pixel(d, 56, 8)).satisfies(p -> assertThat(p[1]).isGreaterThan(200).isGreaterThan(p[2] + 150));
    assertThat(pixel(d, 8, 40)).satisfies(p -> assertThat(p[2]).isGreaterThan(200).isGreaterThan(p[0] + 150));
    assertThat(Arrays.stream(pixel(d, 56, 40)).min().getAsInt()).as("white bottom right").isGreaterThan(200);
    DecodeSettings flipped = settings("conveyor.decode { image { short-side = 48, crop-height = 48, crop-width = 64 },"
        + " augment.horizontal-flip = true }");
    int mirrored = 0;
    for (long seed = 0; seed < 16; seed++) {
      ImageDecoder.DecodedImage f = new ImageDecoder(flipped).decode(jpeg, new SplittableRandom(seed));
      if (!Arrays.equals(f.rgb(), d.rgb())) {
        mirrored++;
        assertThat(pixel(f, 8, 8)).satisfies(p -> assertThat(p[1]).isGreaterThan(200)); // green now top left
        assertThat(pixel(f, 63 - 8, 8)).containsExactly(pixel(d, 8, 8));
      }
    }
    assertThat(mirrored).as("flipped for some seeds, not all").isBetween(1, 15);
  }

  @Test
  void aCutOrBrokenJpegIsRefusedWithLibjpegsReason() {
    DecodeSettings s = settings("conveyor.decode.image { short-side = 192, crop-height = 192, crop-width = 256 }");
    byte[] cut = Arrays.copyOf(jpeg, jpeg.length * 2 / 3);
    assertThatThrownBy(() -> new ImageDecoder(s).decode(cut, new SplittableRandom(1)))
        .isInstanceOf(DecodeException.class).hasMessage("not a decodable image: Premature end of JPEG file");
    byte[] broken = jpeg.clone();
    for (int i = broken.length / 2; i < broken.length / 2 + 64; i++) {
      broken[i] = (byte) 0xFF; // markers in the middle of the entropy-coded data
    }
    assertThatThrownBy(() -> new ImageDecoder(s).decode(broken, new SplittableRandom(1)))
        .isInstanceOf(DecodeException.class).hasMessageStartingWith("not a decodable image: ");
    byte[] headerOnly = TestMedia.jpegDeclaring(64, 48);
    assertThatThrownBy(() -> new ImageDecoder(s).decode(headerOnly, new SplittableRandom(1)))
        .isInstanceOf(DecodeException.class).hasMessageStartingWith("not a decodable image: ");
  }
}
