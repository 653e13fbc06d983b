package dev.conveyor.examples;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Text to token ids with a Hugging Face {@code tokenizer.json} (the tokenizers library, through
 * DJL; its native library comes in its jar, so nothing is downloaded). The file is named by the
 * environment variable {@value #ENV} (or the system property {@value #PROPERTY}) of every process
 * that runs the stage; one tokenizer per process, loaded when first used. Its vocabulary must
 * have the special token {@value #END}, put after each document.
 */
public final class TextTokens {
  public static final String ENV = "CONVEYOR_TOKENIZER";
  public static final String PROPERTY = "conveyor.tokenizer";
  public static final String END = "[EOS]";

  private static volatile HuggingFaceTokenizer tokenizer;

  private TextTokens() {}

  /** The ids of {@code text}'s tokens, {@value #END}'s last. */
  public static int[] ids(String text) {
    Encoding e = tokenizer().encode(text + " " + END, false, false);
    long[] ids = e.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  private static HuggingFaceTokenizer tokenizer() {
    HuggingFaceTokenizer t = tokenizer;
    if (t == null) {
      synchronized (TextTokens.class) {
        t = tokenizer;
        if (t == null) {
          t = load();
          tokenizer = t;
        }
      }
    }
    return t;
  }

  private static HuggingFaceTokenizer load() {
    String named = System.getProperty(PROPERTY, System.getenv(ENV));
    if (named == null || named.isBlank()) {
      throw new IllegalStateException("no tokenizer: set " + ENV + " to a tokenizer.json (examples/train_text.py makes"
          + " one) in the environment of every process that runs this stage");
    }
    Path file = Path.of(named);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(ENV + " names " + file + ", which is not a file");
    }
    // DJL finds its native library's properties through the context class loader: make it the one that loaded
    // this class (an author's jar is loaded by a class loader of its own)
    Thread thread = Thread.currentThread();
    ClassLoader before = thread.getContextClassLoader();
    thread.setContextClassLoader(TextTokens.class.getClassLoader());
    try {
      HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "false", "truncation", "false"));
      if (t.encode(END, false, false).getIds().length != 1) {
        throw new IllegalStateException(file + " has no special token " + END + " to end a document with");
      }
      return t;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the tokenizer " + file, e);
    } finally {
      thread.setContextClassLoader(before);
    }
  }
}
