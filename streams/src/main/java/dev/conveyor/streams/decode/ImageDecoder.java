package dev.conveyor.streams.decode;

import dev.conveyor.config.DecodeSettings;
import java.util.SplittableRandom;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/** Images (jpg, jpeg, png, webp) to RGB uint8 H x W x 3, resized and cropped, with FFmpeg's decoders. */
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
    if (dims.isPresent() && (long) dims.get()[0] * dims.get()[1] > settings.limits().maxPixels()) {
      throw new DecodeException("image declares " + dims.get()[0] + "x" + dims.get()[1] + " pixels, over limits.max-pixels "
          + settings.limits().maxPixels() + ": not decoded");
    }
    FFmpegFrameGrabber g = Grabbers.open(bytes, null);
    try {
      g.start();
      int w = g.getImageWidth();
      int h = g.getImageHeight();
      if (w <= 0 || h <= 0) {
        throw new DecodeException("no picture in the image member");
      }
      if ((long) w * h > settings.limits().maxPixels()) {
        throw new DecodeException("image is " + w + "x" + h + " pixels, over limits.max-pixels " + settings.limits().maxPixels());
      }
      DecodeSettings.Image s = settings.image();
      Geometry geo = Geometry.of(w, h, s.shortSide(), s.cropHeight(), s.cropWidth(), rnd,
          settings.augment().randomCrop(), settings.augment().horizontalFlip());
      g.setImageWidth(geo.scaledWidth());
      g.setImageHeight(geo.scaledHeight());
      Frame f = g.grabImage();
      if (f == null || f.image == null) {
        throw new DecodeException("image member holds no decodable picture");
      }
      byte[] out = new byte[s.cropHeight() * s.cropWidth() * 3];
      geo.copy((java.nio.ByteBuffer) f.image[0], f.imageStride, out, 0);
      return new DecodedImage(out, s.cropHeight(), s.cropWidth(), w, h);
    } catch (DecodeException e) {
      throw e;
    } catch (Exception e) {
      throw new DecodeException("not a decodable image: " + firstLine(e), e);
    } finally {
      Grabbers.close(g);
    }
  }

  static String firstLine(Exception e) {
    String m = e.getMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** H x W x 3 RGB bytes and the picture's original size. */
  record DecodedImage(byte[] rgb, int height, int width, int originalWidth, int originalHeight) {}
}
