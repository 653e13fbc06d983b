package dev.conveyor.streams.decode;

import dev.conveyor.config.DecodeSettings;
import java.util.SplittableRandom;

/**
 * Images (jpg, jpeg, png, webp) to RGB uint8 H x W x 3, resized and cropped: JPEGs with
 * libjpeg-turbo ({@link TurboJpeg}) unless the settings say FFmpeg or the JNI library is not
 * there, the rest with FFmpeg's codecs ({@link StillDecoder}).
 */
final class ImageDecoder {
  private final DecodeSettings settings;
  private final boolean turbo;

  ImageDecoder(DecodeSettings settings) {
    this.settings = settings;
    this.turbo = settings.image().jpeg() == DecodeSettings.JpegDecoder.LIBJPEG_TURBO && TurboJpeg.available();
    if (settings.image().jpeg() == DecodeSettings.JpegDecoder.LIBJPEG_TURBO && !turbo) {
      TurboJpeg.warnUnavailableOnce();
    }
  }

  /** The decoded picture; {@code rnd} drives the seeded augmentation. */
  DecodedImage decode(byte[] bytes, SplittableRandom rnd) throws DecodeException {
    if (bytes.length == 0) {
      throw new DecodeException("empty image member (0 bytes)");
    }
    var dims = MediaHeaders.dimensions(bytes);
    if (dims.isPresent()) {
      Geometry.checkPixels("image declares", dims.get()[0], dims.get()[1], settings); // before a byte is decoded
    }
    DecodeSettings.Image s = settings.image();
    byte[] out = PixelBuffers.take(s.cropHeight() * s.cropWidth() * 3); // every byte is written below
    int codec = StillDecoder.codecOf(bytes);
    if (codec < 0) {
      throw new DecodeException("not a decodable image: not JPEG, PNG or WebP");
    }
    StillDecoder.Sizing sizing = (w, h) -> {
      Geometry.checkPixels("image is", w, h, settings);
      return Geometry.of(w, h, s.shortSide(), s.cropHeight(), s.cropWidth(), rnd,
          settings.augment().randomCrop(), settings.augment().horizontalFlip());
    };
    if (turbo && codec == StillDecoder.JPEG) {
      if (dims.isEmpty()) {
        throw new DecodeException("not a decodable image: no JPEG frame header (SOF) before the data ends");
      }
      int w = dims.get()[0];
      int h = dims.get()[1];
      Geometry geo = sizing.of(w, h);
      if (TurboJpeg.decode(bytes, w, h, geo, out) > 0) {
        return new DecodedImage(out, s.cropHeight(), s.cropWidth(), w, h);
      }
      // CMYK or YCCK: FFmpeg's decoder turns them into RGB, with the geometry already drawn
      StillDecoder.Sizing drawn = sizing;
      sizing = (fw, fh) -> fw == w && fh == h ? geo : drawn.of(fw, fh);
    }
    int[] size = StillDecoder.decode(bytes, codec, sizing, out);
    return new DecodedImage(out, s.cropHeight(), s.cropWidth(), size[0], size[1]);
  }

  /** H x W x 3 RGB bytes and the picture's original size. */
  record DecodedImage(byte[] rgb, int height, int width, int originalWidth, int originalHeight) {}
}
