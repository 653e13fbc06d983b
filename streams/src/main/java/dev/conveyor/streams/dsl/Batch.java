package dev.conveyor.streams.dsl;

import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A batch as a batch-level stage sees it ({@link Pipeline#mapBatches}): its samples as columns —
 * their keys, their pictures as one array ({@code n x height x width x 3}, when every sample has
 * a picture of one size), and their token arrays and text fields by name — not as per-sample
 * objects. A stage returns the batch it makes with the {@code with…} methods: the same samples,
 * in the same order, their columns changed. Immutable (the arrays are the stage's to change).
 */
public final class Batch {
  /** The pictures of a batch, one after another: {@code rgb} holds {@code count x height x width x 3} bytes. */
  public record Pictures(byte[] rgb, int count, int height, int width) {
    public Pictures {
      if ((long) count * height * width * 3 != rgb.length) {
        throw new IllegalArgumentException("pictures of " + count + " x " + height + " x " + width + " x 3 hold "
            + (long) count * height * width * 3 + " bytes, not " + rgb.length);
      }
    }
  }

  private final List<String> keys;
  private final Optional<Pictures> pictures;
  private final Map<String, int[][]> tokens;
  private final Map<String, List<String>> text;

  private Batch(List<String> keys, Optional<Pictures> pictures, Map<String, int[][]> tokens,
                Map<String, List<String>> text) {
    this.keys = List.copyOf(keys);
    this.pictures = pictures;
    this.tokens = Map.copyOf(tokens);
    this.text = Map.copyOf(text);
  }

  /** The columns of {@code b}'s decoded samples (a copy of their pictures). */
  static Batch of(RawBatch b) {
    List<RawSample> samples = b.samples();
    List<String> keys = samples.stream().map(RawSample::key).toList();
    Optional<Pictures> pictures = Optional.empty();
    List<Decoded.Picture> each = new ArrayList<>();
    samples.forEach(s -> s.decoded().flatMap(Decoded::image).ifPresent(each::add));
    if (!each.isEmpty() && each.size() == samples.size()
        && each.stream().allMatch(p -> p.height() == each.get(0).height() && p.width() == each.get(0).width())) {
      int one = each.get(0).rgb().length;
      byte[] all = new byte[one * each.size()];
      for (int i = 0; i < each.size(); i++) {
        System.arraycopy(each.get(i).rgb(), 0, all, i * one, one);
      }
      pictures = Optional.of(new Pictures(all, each.size(), each.get(0).height(), each.get(0).width()));
    }
    Map<String, int[][]> tokens = new LinkedHashMap<>();
    Map<String, List<String>> text = new LinkedHashMap<>();
    if (!samples.isEmpty() && samples.get(0).decoded().isPresent()) {
      Decoded first = samples.get(0).decoded().get();
      for (String name : first.tokens().keySet()) {
        if (samples.stream().allMatch(s -> s.decoded().map(d -> d.tokens().containsKey(name)).orElse(false))) {
          tokens.put(name, samples.stream().map(s -> s.decoded().get().tokens().get(name)).toArray(int[][]::new));
        }
      }
      for (String name : first.text().keySet()) {
        if (samples.stream().allMatch(s -> s.decoded().map(d -> d.text().containsKey(name)).orElse(false))) {
          text.put(name, samples.stream().map(s -> s.decoded().get().text().get(name)).toList());
        }
      }
    }
    return new Batch(keys, pictures, tokens, text);
  }

  /** {@code b} with this batch's columns: each sample's picture, tokens and text from them, in place. */
  RawBatch into(RawBatch b) {
    List<RawSample> out = new ArrayList<>(b.samples().size());
    for (int i = 0; i < b.samples().size(); i++) {
      RawSample s = b.samples().get(i);
      Decoded d = s.decoded().orElse(null);
      if (d == null) {
        out.add(s);
        continue;
      }
      if (pictures.isPresent() && d.image().isPresent()) {
        byte[] rgb = d.image().get().rgb(); // the sample's own array: written in place
        System.arraycopy(pictures.get().rgb(), i * rgb.length, rgb, 0, rgb.length);
      }
      Map<String, int[]> t = new LinkedHashMap<>(d.tokens());
      int at = i;
      tokens.forEach((name, column) -> t.put(name, column[at]));
      Map<String, String> x = new LinkedHashMap<>(d.text());
      text.forEach((name, column) -> x.put(name, column.get(at)));
      out.add(s.withDecoded(new Decoded(d.image(), d.video(), x, t)));
    }
    return new RawBatch(b.epoch(), b.rank(), b.step(), b.index(), out, b.filtered(), b.sources(), b.end(),
        b.endOffset(), b.ends(), b.endOffsets());
  }

  public int size() {
    return keys.size();
  }

  public List<String> keys() {
    return keys;
  }

  /** The pictures, when every sample has one and all are of one size. */
  public Optional<Pictures> pictures() {
    return pictures;
  }

  /** Each sample's token array {@code name}, when every sample has one. */
  public Optional<int[][]> tokens(String name) {
    return Optional.ofNullable(tokens.get(name));
  }

  /** Each sample's text field {@code name}, when every sample has one. */
  public Optional<List<String>> text(String name) {
    return Optional.ofNullable(text.get(name));
  }

  /** This batch with {@code p} as its pictures (as many, of the same size). */
  public Batch withPictures(Pictures p) {
    Pictures now = pictures.orElseThrow(() -> new IllegalStateException("this batch has no pictures column"));
    if (p.count() != now.count() || p.height() != now.height() || p.width() != now.width()) {
      throw new IllegalArgumentException("pictures of " + p.count() + " x " + p.height() + " x " + p.width()
          + " for a batch of " + now.count() + " x " + now.height() + " x " + now.width());
    }
    return new Batch(keys, Optional.of(p), tokens, text);
  }

  /** This batch with each sample's token array {@code name} from {@code column} (one per sample). */
  public Batch withTokens(String name, int[][] column) {
    if (column.length != size()) {
      throw new IllegalArgumentException(column.length + " token arrays for a batch of " + size());
    }
    Map<String, int[][]> t = new LinkedHashMap<>(tokens);
    t.put(name, column.clone());
    return new Batch(keys, pictures, t, text);
  }

  /** This batch with each sample's text field {@code name} from {@code column} (one per sample). */
  public Batch withText(String name, List<String> column) {
    if (column.size() != size()) {
      throw new IllegalArgumentException(column.size() + " texts for a batch of " + size());
    }
    Map<String, List<String>> t = new LinkedHashMap<>(text);
    t.put(name, List.copyOf(column));
    return new Batch(keys, pictures, tokens, t);
  }
}
