package dev.conveyor.streams.decode;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Java2DFrameConverter;

/** Real media made by FFmpeg (and ImageIO) for decoder tests, with content the tests can recognise. */
final class TestMedia {
  private TestMedia() {}

  /** The colour that says "frame i": red, green and blue carry i's three nibbles, with margin for codec error. */
  static Color frameColour(int i) {
    return new Color(16 * (i % 16) + 8, 16 * ((i / 16) % 16) + 8, 16 * (i / 256) + 8);
  }

  /** Reads a frame number back from a decoded RGB pixel. */
  static int frameOf(int r, int g, int b) {
    return Math.round((r - 8) / 16f) + 16 * Math.round((g - 8) / 16f) + 256 * Math.round((b - 8) / 16f);
  }

  /** An H.264 MP4 of {@code frames} solid frames, frame i coloured {@link #frameColour(int)}. */
  static byte[] numberedClip(int frames, int gop, int width, int height) throws Exception {
    return recorded("numbered-", ".mp4", width, height, (rec, conv) -> {
      rec.setFormat("mp4");
      rec.setVideoCodecName("libopenh264");
      rec.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
      rec.setFrameRate(25);
      rec.setGopSize(gop);
      rec.setVideoBitrate(2_000_000);
      rec.start();
      for (int i = 0; i < frames; i++) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        g.setColor(frameColour(i));
        g.fillRect(0, 0, width, height);
        g.dispose();
        rec.record(conv.convert(img));
      }
    });
  }

  /** What FFmpeg's recorder writes to a file, {@code record}ing between its start and stop. */
  private interface Recording {
    void record(FFmpegFrameRecorder rec, Java2DFrameConverter conv) throws Exception;
  }

  /** The bytes of a {@code width x height} file {@code recording} makes (set up, then frames); the file is deleted. */
  private static byte[] recorded(String prefix, String suffix, int width, int height, Recording recording)
      throws Exception {
    Path f = Files.createTempFile(prefix, suffix);
    try {
      try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(f.toFile(), width, height, 0);
           Java2DFrameConverter conv = new Java2DFrameConverter()) {
        recording.record(rec, conv);
        rec.stop();
      }
      return Files.readAllBytes(f);
    } finally {
      Files.delete(f);
    }
  }

  /** An MP4 with one AAC audio stream and no video. */
  static byte[] audioOnly() throws Exception {
    Path f = Files.createTempFile("audio-", ".mp4");
    try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(f.toFile(), 1)) {
      rec.setFormat("mp4");
      rec.setAudioCodec(avcodec.AV_CODEC_ID_AAC);
      rec.setSampleRate(16000);
      rec.start();
      short[] tone = new short[16000];
      for (int i = 0; i < tone.length; i++) {
        tone[i] = (short) (Math.sin(i / 10.0) * 8000);
      }
      rec.recordSamples(16000, 1, ShortBuffer.wrap(tone));
      rec.stop();
    }
    try {
      return Files.readAllBytes(f);
    } finally {
      Files.delete(f);
    }
  }

  /**
   * A JPEG made by FFmpeg's mjpeg encoder (4:2:0, high quality): four quadrants, red, green,
   * blue and white (top left, top right, bottom left, bottom right), over a gentle diagonal
   * gradient so that resizing has something to interpolate.
   */
  static byte[] quadrantsJpeg(int width, int height) throws Exception {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int shade = 40 * (x + y) / (width + height);
        boolean left = x < width / 2;
        boolean top = y < height / 2;
        Color c = top ? (left ? new Color(215 + shade, shade, shade) : new Color(shade, 215 + shade, shade))
            : (left ? new Color(shade, shade, 215 + shade) : new Color(215 + shade, 215 + shade, 215 + shade));
        img.setRGB(x, y, c.getRGB());
      }
    }
    return recorded("quadrants-", ".jpg", width, height, (rec, conv) -> {
      rec.setFormat("image2");
      rec.setVideoCodec(avcodec.AV_CODEC_ID_MJPEG);
      rec.setPixelFormat(avutil.AV_PIX_FMT_YUVJ420P);
      rec.setVideoQuality(2); // qscale 2: near lossless
      rec.setFrameRate(1);
      rec.start();
      rec.record(conv.convert(img));
    });
  }

  /** A lossless PNG: left half red, right half blue. */
  static byte[] halvesPng(int width, int height) throws Exception {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.RED);
    g.fillRect(0, 0, width / 2, height);
    g.setColor(Color.BLUE);
    g.fillRect(width / 2, 0, width - width / 2, height);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  /** A PNG header that declares {@code width x height} and holds no image data. */
  static byte[] pngDeclaring(int width, int height) {
    byte[] b = new byte[33];
    byte[] sig = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    System.arraycopy(sig, 0, b, 0, sig.length);
    putBe32(b, 16, width);
    putBe32(b, 20, height);
    b[24] = 8;
    b[25] = 2;
    return b;
  }

  /** A JPEG start (SOI, SOF0) that declares {@code width x height} and holds no scan. */
  static byte[] jpegDeclaring(int width, int height) {
    return new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC0, 0, 17, 8,
        (byte) (height >> 8), (byte) height, (byte) (width >> 8), (byte) width, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1};
  }

  private static void putBe32(byte[] b, int i, int v) {
    b[i] = (byte) (v >>> 24);
    b[i + 1] = (byte) (v >>> 16);
    b[i + 2] = (byte) (v >>> 8);
    b[i + 3] = (byte) v;
  }
}
