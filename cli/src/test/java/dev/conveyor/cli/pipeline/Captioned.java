package dev.conveyor.cli.pipeline;

import static dev.conveyor.config.Resources.cpus;

import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;
import dev.conveyor.streams.sample.RawSample;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pipeline a test writes: a stateful "captioner" as an actor pool, concurrency (1, 3), after a
 * fused filter; {@link Fused} is the same stage fused into the decoders. The captioner builds a
 * table once (counted in {@link Captioner#MADE}), writes each image's caption (as tokens) from its pixels, the
 * table and its random stream, is slow on every fifth sample (so actors finish out of turn), and
 * throws once on each key a test puts in {@link Captioner#FAIL_ONCE}.
 */
public final class Captioned implements PipelineDefinition {
  /** The captioning stage. */
  public static final class Captioner implements SampleMap {
    public static final AtomicInteger MADE = new AtomicInteger();
    public static final Set<Integer> FAIL_ONCE = ConcurrentHashMap.newKeySet();
    private final char[] table = new char[256];

    public Captioner() {
      MADE.incrementAndGet();
      for (int i = 0; i < table.length; i++) {
        table[i] = (char) ('a' + (i * 7 + 3) % 26);
      }
    }

    @Override
    public RawSample apply(RawSample s, SplittableRandom random) throws Exception {
      if (FAIL_ONCE.remove(Integer.parseInt(s.key()))) {
        throw new IllegalStateException("the captioner lost its place on " + s.key());
      }
      if (Integer.parseInt(s.key()) % 5 == 0) {
        Thread.sleep(15);
      }
      byte[] rgb = s.decoded().orElseThrow().image().orElseThrow().rgb();
      StringBuilder caption = new StringBuilder();
      for (int i = 0; i < rgb.length; i += rgb.length / 12) {
        caption.append(table[rgb[i] & 0xff]);
      }
      caption.append(' ').append(random.nextInt(100));
      // as tokens, which a batch's digest covers
      return s.withDecoded(s.decoded().get().withTokens("caption", caption.chars().toArray()));
    }
  }

  static Pipeline with(Stage captioner) {
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar"))
        .filter(s -> s.member("jpg").isPresent())
        .decode(Decode.images(32, 32))
        .map(captioner)
        .batch(4);
  }

  @Override
  public Pipeline define() {
    return with(Stage.actor(Captioner::new).named("caption").resources(cpus(1)).concurrency(1, 3));
  }

  /** The same stage fused into the decoders. */
  public static final class Fused implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return with(Stage.of(new Captioner()).named("caption"));
    }
  }

  /** The same stage, its model never loading: its constructor throws. */
  public static final class Unmakeable implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return with(Stage.actor(() -> {
        throw new IllegalStateException("no weights at /models/captioner.bin");
      }).named("caption").concurrency(1, 2));
    }
  }

  /** The same stage asking a GPU. */
  public static final class OnGpu implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return with(Stage.actor(Captioner::new).named("caption")
          .resources(cpus(1), dev.conveyor.config.Resources.gpus(1)).concurrency(1, 2));
    }
  }
}
