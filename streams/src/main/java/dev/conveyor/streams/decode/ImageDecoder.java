package dev.conveyor.streams.decode;

import dev.conveyor.config.DecodeSettings;
import java.util.SplittableRandom;

/** Images (jpg, jpeg, png, webp) to RGB uint8 H x W x 3, resized and cropped, with FFmpeg's codecs (see {@link StillDecoder}). */
final class ImageDecoder {
  private final DecodeSettings settings;

  ImageDecoder(DecodeSettings settings) {
    this.settings = settings;
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
    byte[] out = new byte[s.cropHeight() * s.cropWidth() * 3];
    int codec = StillDecoder.codecOf(bytes);
    if (codec < 0) {
      throw new DecodeException("not a decodable image: not JPEG, PNG or WebP");
    }
    int[] size = StillDecoder.decode(bytes, codec, (w, h) -> {
      Geometry.checkPixels("image is", w, h, settings);
      return Geometry.of(w, h, s.shortSide(), s.cropHeight(), s.cropWidth(), rnd,
          settings.augment().randomCrop(), settings.augment().horizontalFlip());
    }, out);
    return new DecodedImage(out, s.cropHeight(), s.cropWidth(), size[0], size[1]);
  }

  /** H x W x 3 RGB bytes and the picture's original size. */
  record DecodedImage(byte[] rgb, int height, int width, int originalWidth, int originalHeight) {}
}
