package dev.conveyor.streams.decode;

import java.io.ByteArrayInputStream;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FFmpegLogCallback;

/** FFmpeg grabbers over bytes in memory, set up the same way everywhere: one thread, RGB24, bilinear scaling. */
final class Grabbers {
  static {
    avutil.av_log_set_level(avutil.AV_LOG_QUIET); // broken media is reported as dead letters, not as FFmpeg noise
    FFmpegLogCallback.setLevel(avutil.AV_LOG_QUIET);
  }

  private Grabbers() {}

  /** Loads this class, and so turns FFmpeg's log off. */
  static void quiet() {
    // the static initializer does the work
  }

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
