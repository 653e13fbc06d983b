package dev.conveyor.streams.decode;

import dev.conveyor.config.DecodeSettings;
import java.util.Set;
import java.util.function.Consumer;
import org.bytedeco.ffmpeg.avutil.AVBufferRef;
import org.bytedeco.ffmpeg.global.avutil;

/**
 * {@code hwaccel = cuda} asks for NVDEC through FFmpeg's {@code *_cuvid} decoders. Whether a
 * CUDA device answers is checked once per process; without one, video decodes on the CPU and
 * the run says so once. With one, a clip whose codec has a cuvid decoder is decoded by it
 * (a clip it fails to open falls back to the CPU). Untested here: no machine of this project
 * has a GPU; the fallback is what the tests see.
 */
public final class HwAccel {
  static final Set<String> CUVID = Set.of("h264", "hevc", "vp8", "vp9", "av1", "mpeg1video", "mpeg2video", "mpeg4", "vc1", "mjpeg");
  private static volatile Boolean cuda;

  private HwAccel() {}

  /** Checks the device (once) when {@code settings} ask for it; says so on {@code notice} when it is missing. */
  public static synchronized boolean check(DecodeSettings settings, Consumer<String> notice) {
    if (settings.hwaccel() != DecodeSettings.HwAccel.CUDA) {
      return false;
    }
    if (cuda == null) {
      AVBufferRef ctx = new AVBufferRef(null);
      int rc = avutil.av_hwdevice_ctx_create(ctx, avutil.AV_HWDEVICE_TYPE_CUDA, (String) null, null, 0);
      cuda = rc >= 0;
      if (cuda) {
        avutil.av_buffer_unref(ctx);
      } else {
        notice.accept("warning: decode.hwaccel = cuda but no CUDA device is available (FFmpeg error " + rc
            + "): decoding on the CPU");
      }
    }
    return cuda;
  }

  /** The cuvid decoder for a codec, when hardware decoding is on and one exists. */
  static String decoderFor(DecodeSettings settings, String codec) {
    if (settings.hwaccel() != DecodeSettings.HwAccel.CUDA || !Boolean.TRUE.equals(cuda) || codec == null || !CUVID.contains(codec)) {
      return null;
    }
    return codec + "_cuvid";
  }
}
