package dev.conveyor.tools.datagen;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Java2DFrameConverter;

/** Encodes synthetic scenes as real media: JPEG stills (ImageIO) and H.264 MP4 clips (FFmpeg's OpenH264). */
final class SyntheticMedia {
  private SyntheticMedia() {}

  /** An encoded sample body plus what its caption JSON says about it. */
  record Encoded(byte[] bytes, int width, int height, int frames, double fps, int label, String caption) {}

  static Encoded jpeg(SplittableRandom rnd) {
    int w = 96 + rnd.nextInt(225);
    int h = 96 + rnd.nextInt(225);
    Scene scene = new Scene(rnd, w, h);
    BufferedImage img = scene.render(0);
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(0.9f);
      writer.write(null, new IIOImage(img, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return new Encoded(bytes.toByteArray(), w, h, 1, 0, scene.label(), scene.caption());
  }

  static Encoded mp4(SplittableRandom rnd, Path scratch) {
    int w = 2 * (64 + rnd.nextInt(65)); // even sizes, 128..256
    int h = 2 * (48 + rnd.nextInt(49));
    int fps = 24 + rnd.nextInt(7);
    int frames = (int) Math.round(fps * (1.0 + rnd.nextDouble() * 3.0));
    Scene scene = new Scene(rnd, w, h);
    avutil.av_log_set_level(avutil.AV_LOG_ERROR);
    Path file = null;
    try {
      file = Files.createTempFile(scratch, "clip-", ".mp4");
      try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(file.toFile(), w, h, 0);
           Java2DFrameConverter conv = new Java2DFrameConverter()) {
        rec.setFormat("mp4");
        rec.setVideoCodecName("libopenh264");
        rec.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
        rec.setFrameRate(fps);
        rec.setGopSize(fps * 2);
        rec.setVideoBitrate(w * h * 4);
        rec.setVideoOption("threads", "1"); // one thread: the same bytes on every machine
        rec.setOption("movflags", "+faststart"); // index first, so a clip decodes as it streams
        rec.start();
        for (int t = 0; t < frames; t++) {
          rec.record(conv.convert(scene.render(t)));
        }
        rec.stop();
      }
      return new Encoded(Files.readAllBytes(file), w, h, frames, fps, scene.label(), scene.caption());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // a leftover temp file is harmless
        }
      }
    }
  }
}
