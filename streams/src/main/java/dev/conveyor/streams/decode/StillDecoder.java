package dev.conveyor.streams.decode;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MJPEG;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_PNG;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_WEBP;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_decoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_frame;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_packet;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.swscale.SWS_BILINEAR;
import static org.bytedeco.ffmpeg.global.swscale.sws_freeContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_getContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_scale;

import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Still images straight through FFmpeg's codec (no demuxer, which would probe — decode — each
 * image once more before the real decode): the bytes are one packet, the frame is scaled to
 * RGB24 by swscale. JPEG, PNG and WebP, told apart by their signatures.
 */
final class StillDecoder {
  static {
    FFmpegLog.quiet();
  }

  private StillDecoder() {}

  /** The codec id of JPEG, as {@link #codecOf} answers it. */
  static final int JPEG = AV_CODEC_ID_MJPEG;

  /** The codec for an image's signature, or -1 when it is none of JPEG, PNG, WebP. */
  static int codecOf(byte[] b) {
    if (b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8) {
      return AV_CODEC_ID_MJPEG;
    }
    if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
      return AV_CODEC_ID_PNG;
    }
    if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E') {
      return AV_CODEC_ID_WEBP;
    }
    return -1;
  }

  /** Decodes {@code bytes} and returns the picture scaled to the size {@code geometry} picks, cropped into {@code out}. */
  interface Sizing {
    Geometry of(int width, int height) throws DecodeException;
  }

  /** Width and height of the decoded picture, after {@code out} was filled through {@code sizing}'s geometry. */
  static int[] decode(byte[] bytes, int codecId, Sizing sizing, byte[] out) throws DecodeException {
    AVCodec codec = avcodec_find_decoder(codecId);
    AVCodecContext ctx = avcodec_alloc_context3(codec);
    AVPacket pkt = av_packet_alloc();
    AVFrame frame = av_frame_alloc();
    BytePointer data = new BytePointer(bytes.length + 64); // FFmpeg reads a little past the end: padding
    SwsContext sws = null;
    BytePointer rgb = null;
    try {
      ctx.thread_count(1);
      if (avcodec_open2(ctx, codec, (org.bytedeco.ffmpeg.avutil.AVDictionary) null) < 0) {
        throw new DecodeException("cannot open the image decoder");
      }
      data.put(bytes, 0, bytes.length);
      data.position(bytes.length).fill(0).position(0);
      pkt.data(data);
      pkt.size(bytes.length);
      if (avcodec_send_packet(ctx, pkt) < 0) {
        throw new DecodeException("not a decodable image: the decoder refused the data");
      }
      if (avcodec_receive_frame(ctx, frame) < 0) {
        throw new DecodeException("not a decodable image: no picture came out of the data");
      }
      int w = frame.width();
      int h = frame.height();
      Geometry geo = sizing.of(w, h);
      sws = sws_getContext(w, h, frame.format(), geo.scaledWidth(), geo.scaledHeight(), AV_PIX_FMT_RGB24, SWS_BILINEAR,
          null, null, (DoublePointer) null);
      if (sws == null) {
        throw new DecodeException("unsupported picture format " + frame.format());
      }
      int stride = geo.scaledWidth() * 3;
      rgb = new BytePointer((long) stride * geo.scaledHeight());
      // swscale checks four destination planes; RGB24 uses the first
      PointerPointer<BytePointer> dst = new PointerPointer<>(rgb, null, null, null);
      IntPointer dstStride = new IntPointer(stride, 0, 0, 0);
      int rows = sws_scale(sws, frame.data(), frame.linesize(), 0, h, dst, dstStride);
      dst.deallocate();
      dstStride.deallocate();
      if (rows <= 0) {
        throw new DecodeException("could not convert the picture to RGB");
      }
      geo.copy(rgb.asByteBuffer(), stride, out, 0);
      return new int[] {w, h};
    } finally {
      if (sws != null) {
        sws_freeContext(sws);
      }
      if (rgb != null) {
        rgb.deallocate();
      }
      pkt.data(null);
      av_packet_free(pkt);
      av_frame_free(frame);
      avcodec_free_context(ctx);
      data.deallocate();
    }
  }
}
