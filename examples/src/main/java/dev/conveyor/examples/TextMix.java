package dev.conveyor.examples;

import dev.conveyor.streams.dsl.Decode;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.dsl.Shards;
import dev.conveyor.streams.dsl.Source;
import dev.conveyor.streams.dsl.Stage;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;

/**
 * A language model's input pipeline: two text corpora mixed 0.7 / 0.3, each document's
 * {@code .txt} tokenized with a Hugging Face tokenizer ({@link TextTokens}: the
 * {@code tokenizer.json} that {@code CONVEYOR_TOKENIZER} names, with an end-of-document token
 * after each), and the tokens packed into rows of exactly 2,048, 4 rows a batch, each row's
 * {@code text_segments} saying which document each token is from. The sources here are
 * placeholders: the job names its own ({@code conveyor.job.sources}, or {@code sources=} of
 * {@code conveyor.Loader}). {@code examples/train_text.py} makes two corpora and a tokenizer from
 * them and trains a tiny model on these rows.
 * <pre>
 * CONVEYOR_TOKENIZER=/data/tokenizer.json bin/conveyor run --pipeline dev.conveyor.examples.TextMix \
 *     --classpath examples/target/conveyor-examples.jar \
 *     --set 'conveyor.job.sources=[{shards="file:///data/stories/shards.json", weight=0.7, name=stories},
 *                                  {shards="file:///data/sums/shards.json", weight=0.3, name=sums}]'
 * </pre>
 */
public final class TextMix implements PipelineDefinition {
  /** Tokens in a row. */
  public static final int ROW = 2048;

  @Override
  public Pipeline define() {
    return Pipeline.mix(Source.of(Shards.of("file:///placeholder/stories/shards.json")).weight(0.7).named("stories"),
            Source.of(Shards.of("file:///placeholder/sums/shards.json")).weight(0.3).named("sums"))
        .decode(Decode.auto())
        .map(Stage.of((s, random) -> tokenize(s)).named("tokenize"))
        .batch(4)
        .packTokens("text", ROW);
  }

  /** The sample's text as token ids, end-of-document last, as its "text" token field. */
  static RawSample tokenize(RawSample s) {
    Decoded d = s.decoded().orElseThrow(() -> new IllegalArgumentException("sample " + s.key() + " was not decoded"));
    String text = d.text().get("txt");
    if (text == null) {
      throw new IllegalArgumentException("sample " + s.key() + " has no .txt member");
    }
    return s.withDecoded(d.withTokens("text", TextTokens.ids(text)));
  }
}
