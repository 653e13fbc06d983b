package dev.conveyor.config;

/**
 * Which samples of a dataset a job reads, by its catalog ({@code catalog.parquet} beside its
 * {@code shards.json}): those {@code where} (SQL over the catalog's columns) chooses, in a
 * catalog of corpus version {@code corpusVersion} (empty: whichever the dataset has now).
 * {@code where} empty: every sample, and no catalog is read.
 */
public record Selection(String where, String corpusVersion) {
  public static final Selection ALL = new Selection("", "");

  public Selection {
    where = where.strip();
    corpusVersion = corpusVersion.strip();
    if (where.isEmpty() && !corpusVersion.isEmpty()) {
      throw new IllegalArgumentException("a corpus version without a where: it names the catalog a where runs on");
    }
  }

  /** Whether a catalog's query chooses the samples (else every sample is read). */
  public boolean chooses() {
    return !where.isEmpty();
  }

  /** The selection of {@code where} and {@code corpus-version} at {@code at} in {@code r}'s section. */
  static Selection read(String where, String corpusVersion, String at) {
    try {
      return new Selection(where, corpusVersion);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(at + ".corpus-version", "is set but " + at + ".where is not: " + e.getMessage());
    }
  }
}
