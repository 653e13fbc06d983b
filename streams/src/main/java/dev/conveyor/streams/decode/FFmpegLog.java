package dev.conveyor.streams.decode;

import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegLogCallback;

/** FFmpeg's own log, off: broken media is reported as dead letters, not as FFmpeg noise on stderr. */
final class FFmpegLog {
  static {
    avutil.av_log_set_level(avutil.AV_LOG_QUIET);
    FFmpegLogCallback.setLevel(avutil.AV_LOG_QUIET);
  }

  private FFmpegLog() {}

  /** Turns the log off (once, when this class loads); call before the first decode. */
  static void quiet() {
    // the static initializer does the work
  }
}
