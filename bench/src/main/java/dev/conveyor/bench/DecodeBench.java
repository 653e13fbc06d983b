package dev.conveyor.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.decode.DecodeException;
import dev.conveyor.streams.decode.SampleDecoder;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.ShardStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * {@code bench decode}: Conveyor's decoders against the {@code ffmpeg} CLI on the same bytes,
 * per docs/benchmarks.md — interleaved rounds, medians, page cache warm (every file is read
 * once before timing). H.264 → RGB frames/s and JPEG → RGB images/s with one thread and with
 * two, at the media's own size (no resize: the CLI baseline does none). JPEGs go through the
 * decoder {@code run} uses ({@code conveyor.decode.image.jpeg}: libjpeg-turbo by default).
 */
public final class DecodeBench {
  /** Medians of the rounds. */
  public record Result(int clips, long frames, int images, double videoFps1t, double videoFps2t, double imagesPerS1t,
                       double imagesPerS2t, double imagesPerS1tFfmpegPath, double ffmpegVideoFps, double ffmpegImagesPerS,
                       int rounds) {
    double ratioVideo() {
      return ffmpegVideoFps > 0 ? videoFps1t / ffmpegVideoFps : Double.NaN;
    }

    double ratioImage() {
      return ffmpegImagesPerS > 0 ? imagesPerS1t / ffmpegImagesPerS : Double.NaN;
    }

    double scaling() {
      return videoFps2t / videoFps1t;
    }

    double imageScaling() {
      return imagesPerS2t / imagesPerS1t;
    }

    public ObjectNode json() {
      return Json.object().put("clips", clips).put("frames", frames).put("images", images).put("rounds", rounds)
          .put("video_fps_1t", Json.fixed(videoFps1t, 1)).put("video_fps_2t", Json.fixed(videoFps2t, 1))
          .put("images_per_s_1t", Json.fixed(imagesPerS1t, 1)).put("images_per_s_2t", Json.fixed(imagesPerS2t, 1))
          .put("images_per_s_1t_ffmpeg_decoder", Json.fixed(imagesPerS1tFfmpegPath, 1))
          .put("ffmpeg_video_fps_1t", Json.fixed(ffmpegVideoFps, 1))
          .put("ffmpeg_images_per_s_1t", Json.fixed(ffmpegImagesPerS, 1))
          .put("ratio_video_1t", Json.fixed(ratioVideo(), 3)).put("ratio_image_1t", Json.fixed(ratioImage(), 3))
          .put("scaling_2t", Json.fixed(scaling(), 3)).put("scaling_image_2t", Json.fixed(imageScaling(), 3));
    }

    public String text() {
      return String.format(Locale.ROOT, "decode: %d clips (%,d frames), %d JPEGs; median of %d interleaved rounds%n"
              + "  H.264 -> RGB, 1 thread:  conveyor %,.0f frames/s, ffmpeg CLI %,.0f frames/s, ratio %.2f (goal >= 0.9)%n"
              + "  H.264 -> RGB, 2 threads: conveyor %,.0f frames/s, scaling %.2f (goal >= 1.7)%n"
              + "  JPEG -> RGB, 1 thread:   conveyor %,.0f images/s, ffmpeg CLI %,.0f images/s, ratio %.2f (goal >= 2.0)%n"
              + "  JPEG -> RGB, 2 threads:  conveyor %,.0f images/s, scaling %.2f (goal >= 1.8)%n"
              + "  JPEG -> RGB, 1 thread, conveyor with jpeg = ffmpeg (FFmpeg's mjpeg in this JVM): %,.0f images/s",
          clips, frames, images, rounds, videoFps1t, ffmpegVideoFps, ratioVideo(), videoFps2t, scaling(), imagesPerS1t,
          ffmpegImagesPerS, ratioImage(), imagesPerS2t, imageScaling(), imagesPerS1tFfmpegPath);
    }
  }

  /** The reference corpus: 60 frames a clip (checked on every decode). */
  private static final int FRAMES_PER_CLIP = 60;
  /** docs/benchmarks.md: each round lasts at least 3 s. */
  private static final double ROUND_SECONDS = 3.0;
  private static final double WARM_UP_SECONDS = 3.0;
  /** About what the CLI decodes here (docs/benchmarks.md); only sizes how often its JPEG input is looped. */
  private static final double EXPECTED_CLI_IMAGES_PER_S = 2_600;

  private DecodeBench() {}

  /**
   * Reads up to {@code maxClips} clips and {@code maxImages} JPEGs from {@code shards} and measures;
   * the files the CLI decodes are written under {@code dir}, which the caller owns.
   */
  public static Result run(ShardStore store, List<URI> shards, int maxClips, int maxImages, int rounds, Path dir,
      Materializer mat, Consumer<String> notice) throws Exception {
    List<byte[]> clips = new ArrayList<>();
    List<byte[]> jpegs = new ArrayList<>();
    for (URI shard : shards) {
      for (ShardRecord r : ShardSamples.read(store, shard, 1 << 28).runWith(Sink.seq(), mat)
          .toCompletableFuture().get(10, TimeUnit.MINUTES)) {
        if (r instanceof RawSample s) {
          for (Member m : s.members()) {
            if (m.ext().equals("mp4") && clips.size() < maxClips) {
              clips.add(m.data().toArray());
            } else if ((m.ext().equals("jpg") || m.ext().equals("jpeg")) && jpegs.size() < maxImages) {
              jpegs.add(m.data().toArray());
            }
          }
        }
      }
    }
    if (clips.isEmpty() || jpegs.isEmpty()) {
      throw new IllegalArgumentException("bench decode needs .mp4 and .jpg samples in the shards; found " + clips.size()
          + " clips and " + jpegs.size() + " JPEGs");
    }
    Path list = writeFiles(dir, clips, jpegs);
    Optional<String> ffmpeg = Measure.onPath("ffmpeg");
    if (ffmpeg.isEmpty()) {
      notice.accept("ffmpeg is not installed, so there is no baseline: apt-get install -y ffmpeg");
    }
    SampleDecoder video = decoder(60, 256);
    SampleDecoder image = decoder(1, 256);
    SampleDecoder imageByFfmpeg = decoder(1, 256, "ffmpeg");
    double[] v1 = new double[rounds];
    double[] v2 = new double[rounds];
    double[] i1 = new double[rounds];
    double[] i2 = new double[rounds];
    double[] iff = new double[rounds];
    double[] fv = new double[rounds];
    double[] fi = new double[rounds];
    // warm-up, not timed: JIT, native libraries, and the heap grown to its working size for both thread counts
    decodeFor(video, clips, "mp4", 1, WARM_UP_SECONDS);
    decodeFor(video, clips, "mp4", 2, WARM_UP_SECONDS);
    decodeFor(image, jpegs, "jpg", 1, WARM_UP_SECONDS);
    decodeFor(image, jpegs, "jpg", 2, WARM_UP_SECONDS);
    decodeFor(imageByFfmpeg, jpegs, "jpg", 1, WARM_UP_SECONDS);
    // the CLI's JPEG input is looped so that its round also lasts at least ROUND_SECONDS
    int imageLoops = (int) Math.ceil(ROUND_SECONDS * EXPECTED_CLI_IMAGES_PER_S / jpegs.size());
    for (int r = 0; r < rounds; r++) {
      if (ffmpeg.isPresent()) {
        fv[r] = FRAMES_PER_CLIP * clips.size() / timeCli(ffmpeg.get(), "-f", "concat", "-safe", "0", "-i", list.toString());
      }
      v1[r] = FRAMES_PER_CLIP * decodeFor(video, clips, "mp4", 1, ROUND_SECONDS);
      if (ffmpeg.isPresent()) {
        fi[r] = (double) jpegs.size() * imageLoops / timeCli(ffmpeg.get(), "-stream_loop", String.valueOf(imageLoops - 1),
            "-f", "image2", "-i", dir.resolve("img/%06d.jpg").toString());
      }
      i1[r] = decodeFor(image, jpegs, "jpg", 1, ROUND_SECONDS);
      v2[r] = FRAMES_PER_CLIP * decodeFor(video, clips, "mp4", 2, ROUND_SECONDS);
      i2[r] = decodeFor(image, jpegs, "jpg", 2, ROUND_SECONDS);
      iff[r] = decodeFor(imageByFfmpeg, jpegs, "jpg", 1, ROUND_SECONDS);
      notice.accept(String.format(Locale.ROOT, "round %d/%d: video %,.0f / %,.0f frames/s (conveyor / ffmpeg), 2 threads %,.0f;"
          + " JPEG %,.0f / %,.0f images/s, 2 threads %,.0f, FFmpeg's decoder %,.0f", r + 1, rounds, v1[r], fv[r], v2[r],
          i1[r], fi[r], i2[r], iff[r]));
    }
    return new Result(clips.size(), FRAMES_PER_CLIP * clips.size(), jpegs.size(), Measure.median(v1), Measure.median(v2),
        Measure.median(i1), Measure.median(i2), Measure.median(iff), Measure.median(fv), Measure.median(fi), rounds);
  }

  /** Every frame of each clip (as the CLI does), at 256 x 256, no augmentation; JPEGs by libjpeg-turbo. */
  private static SampleDecoder decoder(int frames, int size) {
    return decoder(frames, size, "libjpeg-turbo");
  }

  private static SampleDecoder decoder(int frames, int size, String jpeg) {
    return new SampleDecoder(DecodeSettings.fromConfig(ConfigFactory.parseString(String.format(Locale.ROOT,
        "conveyor.decode { video { frames = %d, short-side = %d, crop-height = %d, crop-width = %d },"
            + " image { short-side = %d, crop-height = %d, crop-width = %d, jpeg = %s } }", frames, size, size, size, size,
            size, size, jpeg))
        .withFallback(ConfigFactory.defaultReference())));
  }

  /**
   * Items decoded per second by {@code threads} threads taking the next item from one shared
   * queue (as the decoder pool does), cycling through {@code items} until {@code seconds} have
   * passed; every item started is finished and counted.
   */
  private static double decodeFor(SampleDecoder d, List<byte[]> items, String ext, int threads, double seconds)
      throws Exception {
    return Measure.itemsPerSecond(threads, seconds, n -> {
      byte[] b = items.get((int) (n % items.size()));
      RawSample s = new RawSample("bench", "k", List.of(new Member(ext, org.apache.pekko.util.ByteString.fromArrayUnsafe(b))));
      try {
        var out = d.decode(s, new SplittableRandom(0)).decoded().orElseThrow();
        if (ext.equals("mp4") && out.video().orElseThrow().frameIndices()[FRAMES_PER_CLIP - 1] != FRAMES_PER_CLIP - 1) {
          throw new IllegalStateException("clip without " + FRAMES_PER_CLIP + " frames: not the reference corpus");
        }
      } catch (DecodeException e) {
        throw new IllegalStateException("a reference sample failed to decode: " + e.getMessage(), e);
      }
    });
  }

  private static Path writeFiles(Path dir, List<byte[]> clips, List<byte[]> jpegs) throws IOException {
    Files.createDirectories(dir.resolve("vid"));
    Files.createDirectories(dir.resolve("img"));
    StringBuilder list = new StringBuilder();
    for (int i = 0; i < clips.size(); i++) {
      Path p = dir.resolve(String.format(Locale.ROOT, "vid/%06d.mp4", i + 1));
      Files.write(p, clips.get(i));
      list.append("file '").append(p).append("'\n");
    }
    for (int i = 0; i < jpegs.size(); i++) {
      Files.write(dir.resolve(String.format(Locale.ROOT, "img/%06d.jpg", i + 1)), jpegs.get(i));
    }
    return Files.writeString(dir.resolve("vid_concat.txt"), list.toString());
  }

  /** Seconds the CLI takes to decode its input to RGB with one thread, minus its start-up (measured with no input). */
  private static double timeCli(String ffmpeg, String... input) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(ffmpeg, "-hide_banner", "-loglevel", "error", "-threads", "1"));
    cmd.addAll(Arrays.asList(input));
    cmd.addAll(List.of("-pix_fmt", "rgb24", "-f", "null", "-"));
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("ffmpeg failed: " + String.join(" ", cmd));
    }
    double total = (System.nanoTime() - t0) / 1e9;
    return Math.max(1e-3, total - startup(ffmpeg));
  }

  private static Double startupSeconds;

  private static double startup(String ffmpeg) throws Exception {
    if (startupSeconds == null) {
      double[] s = new double[3];
      for (int i = 0; i < 3; i++) {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(ffmpeg, "-hide_banner", "-loglevel", "quiet", "-version")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.waitFor(1, TimeUnit.MINUTES);
        s[i] = (System.nanoTime() - t0) / 1e9;
      }
      startupSeconds = Measure.median(s);
    }
    return startupSeconds;
  }
}
