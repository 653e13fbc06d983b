package dev.conveyor.streams.plan;

import static java.util.Objects.requireNonNull;

/**
 * Token packing: each batch is {@code batch-size} rows of exactly {@code length} tokens, filled
 * from the samples' int arrays {@code field} in plan order, first fit: a sample goes whole into
 * the first row with room for it; when no row has, it is split, its head filling the first row
 * with room left and its rest going on the same way, so every row ends exactly full. A sample
 * longer than a row is split likewise, or — with {@code dropLong} — left out (counted as
 * filtered). A batch may end inside a sample: the cursor then records the tokens of it used.
 */
public record Packing(String field, int length, boolean dropLong) implements BatchShape {
  public Packing {
    requireNonNull(field, "field is null");
    if (field.isBlank() || length < 1) {
      throw new IllegalArgumentException("packing needs a token field and a row length of at least 1");
    }
  }

  @Override
  public String describe() {
    return field + "," + length + "," + (dropLong ? "drop" : "split");
  }
}
