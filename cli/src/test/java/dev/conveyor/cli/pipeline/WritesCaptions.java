package dev.conveyor.cli.pipeline;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Stage;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.util.HashMap;
import java.util.Map;

/**
 * A batch job a test writes: the images captioned by {@link Captioned.Captioner} in an actor pool,
 * the caption (its tokens as words) set as the text field {@code caption}, and the samples
 * written as a new dataset in shards of 16 KiB ({@code conveyor.job.sink.to} set by the test);
 * {@link Slow} takes 15 ms a sample, so that a test can kill it between commits.
 */
public final class WritesCaptions implements PipelineDefinition {
  static Pipeline with(long pauseMillis) {
    return Pipeline.from(Shards.of("file:///nowhere/part-0.tar"))
        .filter(s -> s.member("jpg").isPresent())
        .decode(Decode.images(32, 32))
        .map(Stage.actor(Captioned.Captioner::new).named("caption").concurrency(1, 2))
        .map(Stage.of((s, r) -> {
          Thread.sleep(pauseMillis);
          return asText(s);
        }).named("as-text"))
        .write(Shards.to("file:///nowhere/captions/").shardSize("16KiB"))
        .batch(4);
  }

  /** The caption's tokens as the text field {@code caption}. */
  static RawSample asText(RawSample s) {
    Decoded d = s.decoded().orElseThrow();
    StringBuilder caption = new StringBuilder();
    for (int t : d.tokens().get("caption")) {
      caption.append((char) t);
    }
    Map<String, String> text = new HashMap<>(d.text());
    text.put("caption", caption.toString());
    return s.withDecoded(new Decoded(d.image(), d.video(), text, d.tokens()));
  }

  @Override
  public Pipeline define() {
    return with(0);
  }

  /** The same, 15 ms a sample. */
  public static final class Slow implements PipelineDefinition {
    @Override
    public Pipeline define() {
      return with(15);
    }
  }
}
