package dev.conveyor.streams.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PixelBuffersTest {
  static byte[] jpeg;

  @BeforeAll
  static void media() throws Exception {
    jpeg = TestMedia.quadrantsJpeg(256, 192);
  }

  /** A picture decoded into arrays given back full of 0x7f: every byte of it must be the decoder's. */
  static byte[] decodedOverStaleArrays(ImageDecoder decoder, int length, long seed) throws DecodeException {
    for (int i = 0; i < 4; i++) {
      byte[] stale = new byte[length];
      Arrays.fill(stale, (byte) 0x7f);
      PixelBuffers.give(stale);
    }
    return decoder.decode(jpeg, new SplittableRandom(seed)).rgb();
  }

  @Test
  void aReusedArrayHoldsNothingOfItsLastPictureAtAnySizeCropOrPaddingWithEitherDecoder() throws Exception {
    String[] sizes = {
        "short-side = 192, crop-height = 192, crop-width = 256", // rows straight into the array
        "short-side = 120, crop-height = 100, crop-width = 120", // DCT scaling, then bilinear
        "short-side = 64, crop-height = 80, crop-width = 64",    // taller than the picture: black rows
        "short-side = 64, crop-height = 64, crop-width = 100",   // wider than the picture: black columns
    };
    for (String decoderName : new String[] {"libjpeg-turbo", "ffmpeg"}) {
      for (String size : sizes) {
        for (long seed = 0; seed < 3; seed++) {
          ImageDecoder decoder = new ImageDecoder(TurboJpegTest.settings("conveyor.decode { image { " + size
              + ", jpeg = " + decoderName + " }, augment { random-crop = true, horizontal-flip = true } }"));
          PixelBuffers.clear();
          byte[] fresh = decoder.decode(jpeg, new SplittableRandom(seed)).rgb().clone(); // into a new, zeroed array
          byte[] reused = decodedOverStaleArrays(decoder, fresh.length, seed);
          assertThat(reused).as("%s, %s, seed %d", decoderName, size, seed).isEqualTo(fresh);
        }
      }
    }
  }

  @Test
  void anArrayGivenBackIsTheNextOneTakenOfItsSizeAndTheRoomIsBounded() {
    byte[] a = new byte[12_345];
    PixelBuffers.give(a);
    assertThat(PixelBuffers.take(12_345)).isSameAs(a);
    assertThat(PixelBuffers.take(12_345)).isNotSameAs(a).hasSize(12_345);
    long before = PixelBuffers.held();
    int size = 4 << 20;
    for (long given = 0; given < PixelBuffers.MAX_HELD + 8L * size; given += size) {
      PixelBuffers.give(new byte[size]);
    }
    assertThat(PixelBuffers.held()).isLessThanOrEqualTo(PixelBuffers.MAX_HELD).isGreaterThan(before);
    PixelBuffers.give(new byte[PixelBuffers.MAX_ARRAY + 1]); // a long clip's: not kept
    assertThat(PixelBuffers.take(PixelBuffers.MAX_ARRAY + 1)).hasSize(PixelBuffers.MAX_ARRAY + 1);
  }
}
