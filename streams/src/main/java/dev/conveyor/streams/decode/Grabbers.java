package dev.conveyor.streams.decode;

import java.io.ByteArrayInputStream;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;

/** FFmpeg grabbers over bytes in memory, set up the same way everywhere: one thread, RGB24, bilinear scaling. */
final class Grabbers {
  static {
    FFmpegLog.quiet();
  }

  private Grabbers() {}

  /** A grabber over {@code bytes}, not started; {@code decoder} names a specific FFmpeg decoder, or null. */
  static FFmpegFrameGrabber open(byte[] bytes, String decoder) {
    FFmpegFrameGrabber g = new FFmpegFrameGrabber(new ByteArrayInputStream(bytes), bytes.length);
    g.setPixelFormat(avutil.AV_PIX_FMT_RGB24);
    g.setVideoOption("threads", "1"); // parallelism comes from decoding many samples at once
    g.setImageScalingFlags(org.bytedeco.ffmpeg.global.swscale.SWS_BILINEAR);
    if (decoder != null) {
      g.setVideoCodecName(decoder);
    }
    return g;
  }

  static void close(FFmpegFrameGrabber g) {
    try {
      g.releaseUnsafe(); // close() would take the same process-wide lock as start()
    } catch (Exception e) {
      // releasing a grabber that failed to start can fail again; nothing is left to free
    }
  }
}
