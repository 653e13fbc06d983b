package dev.conveyor.streams.decode;

import dev.conveyor.config.DecodeSettings;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/**
 * Clips (mp4, webm, mkv, mov) to {@code frames} RGB frames, T x H x W x 3, resized and cropped.
 * Which frames: spread uniformly over the clip, or every {@code stride}-th from a seeded start.
 * Short clips follow {@code short-clips}. When few frames are wanted from a long clip, the
 * decoder seeks (to the keyframe before each wanted frame) instead of decoding every frame.
 */
final class VideoDecoder {
  /** Seek instead of decoding through when the clip has this many times more frames than wanted. */
  static final int SEEK_RATIO = 8;

  private final DecodeSettings settings;

  VideoDecoder(DecodeSettings settings) {
    this.settings = settings;
  }

  DecodedClip decode(byte[] bytes, SplittableRandom rnd) throws DecodeException {
    if (bytes.length == 0) {
      throw new DecodeException("empty video member (0 bytes)");
    }
    DecodeSettings.Video v = settings.video();
    FFmpegFrameGrabber g = Grabbers.open(bytes, null);
    try {
      g.startUnsafe(); // start() holds a process-wide lock (for old FFmpeg); FFmpeg 7 opens decoders concurrently
      String hw = HwAccel.decoderFor(settings, g.getVideoCodecName());
      if (hw != null) {
        g = onDevice(g, bytes, hw);
      }
      if (!g.hasVideo() || g.getImageWidth() <= 0) {
        throw new DecodeException("no video stream in the clip");
      }
      int w = g.getImageWidth();
      int h = g.getImageHeight();
      Geometry.checkPixels("video is", w, h, settings);
      int n = g.getLengthInVideoFrames();
      if (n > settings.limits().maxFrames()) {
        throw new DecodeException("clip has " + n + " frames, over limits.max-frames " + settings.limits().maxFrames());
      }
      Geometry geo = Geometry.of(w, h, v.shortSide(), v.cropHeight(), v.cropWidth(), rnd,
          settings.augment().randomCrop(), settings.augment().horizontalFlip());
      g.setImageWidth(geo.scaledWidth());
      g.setImageHeight(geo.scaledHeight());
      int[] wanted = FrameSampling.choose(v, Math.max(n, 0), rnd);
      int frameBytes = v.cropHeight() * v.cropWidth() * 3;
      byte[] out = new byte[v.frames() * frameBytes];
      int[] got = n > 0 && n >= (long) SEEK_RATIO * v.frames() ? bySeeking(g, wanted, geo, out, frameBytes)
          : byDecoding(g, wanted, geo, out, frameBytes);
      int have = got.length;
      if (have < v.frames()) {
        if (have == 0) {
          throw new DecodeException("clip has no decodable frames");
        }
        if (v.shortClips() == DecodeSettings.ShortClips.SKIP) {
          throw new DecodeException("clip has " + have + " usable frames, fewer than video.frames " + v.frames()
              + " (short-clips = skip)");
        }
        int[] padded = Arrays.copyOf(got, v.frames());
        for (int i = have; i < v.frames(); i++) {
          System.arraycopy(out, (have - 1) * frameBytes, out, i * frameBytes, frameBytes);
          padded[i] = got[have - 1];
        }
        got = padded;
      }
      return new DecodedClip(out, v.frames(), v.cropHeight(), v.cropWidth(), w, h, got);
    } catch (DecodeException e) {
      throw e;
    } catch (Exception e) {
      throw new DecodeException("not a decodable clip: " + reason(e), e);
    } finally {
      Grabbers.close(g);
    }
  }

  /** The same clip opened with the hardware decoder, or {@code cpu} itself when that fails. */
  private static FFmpegFrameGrabber onDevice(FFmpegFrameGrabber cpu, byte[] bytes, String decoder) {
    FFmpegFrameGrabber gpu = Grabbers.open(bytes, decoder);
    try {
      gpu.startUnsafe();
      Grabbers.close(cpu);
      return gpu;
    } catch (Exception e) {
      Grabbers.close(gpu);
      return cpu;
    }
  }

  /** Decodes frame by frame, keeping the wanted ones; returns the indices kept, in order. */
  private static int[] byDecoding(FFmpegFrameGrabber g, int[] wanted, Geometry geo, byte[] out, int frameBytes) throws Exception {
    int[] got = new int[wanted.length];
    int k = 0;
    int index = 0;
    while (k < wanted.length) {
      Frame f = g.grabImage();
      if (f == null) {
        break;
      }
      while (k < wanted.length && wanted[k] == index) { // a frame may be wanted twice (short clips, stride)
        geo.copy((java.nio.ByteBuffer) f.image[0], f.imageStride, out, k * frameBytes);
        got[k++] = index;
      }
      index++;
    }
    return Arrays.copyOf(got, k);
  }

  private static int[] bySeeking(FFmpegFrameGrabber g, int[] wanted, Geometry geo, byte[] out, int frameBytes) throws Exception {
    int[] got = new int[wanted.length];
    int k = 0;
    for (int want : wanted) {
      g.setVideoFrameNumber(want);
      Frame f = g.grabImage();
      if (f == null) {
        break;
      }
      geo.copy((java.nio.ByteBuffer) f.image[0], f.imageStride, out, k * frameBytes);
      got[k++] = want;
    }
    return Arrays.copyOf(got, k);
  }

  /** T x H x W x 3 RGB bytes, the clip's original size, and which frames were taken. */
  record DecodedClip(byte[] rgb, int frames, int height, int width, int originalWidth, int originalHeight, int[] frameIndices) {}

  /** JavaCV's "avformat_open_input() error -2: Could not open input …" in words a user can act on. */
  private static final java.util.regex.Pattern OPEN_FAILED = java.util.regex.Pattern.compile("avformat_open_input\\(\\) error (-?\\d+)");

  static String reason(Exception e) {
    String m = DecodeException.firstLine(e);
    java.util.regex.Matcher x = OPEN_FAILED.matcher(m);
    return x.find() ? "the container cannot be opened (FFmpeg error " + x.group(1) + "): cut short, or not a video file" : m;
  }
}
