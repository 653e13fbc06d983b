package dev.conveyor.config;

/**
 * Which samples of a dataset a job reads, by its catalog ({@code catalog.parquet} beside its
 * {@code shards.json}): those {@code where} (SQL over the catalog's columns) chooses, in a
 * catalog of corpus version {@code corpusVersion} (empty: whichever the dataset has now), with
 * the columns of {@code catalog} (a Parquet file written by another tool, one row per sample
 * with {@code key} and {@code shard}; empty: none) joined in. {@code where} empty: every
 * sample, and no catalog is read.
 */
public record Selection(String where, String corpusVersion, String catalog) {
  public static final Selection ALL = new Selection("", "", "");

  public Selection {
    where = where.strip();
    corpusVersion = corpusVersion.strip();
    catalog = catalog.strip();
    if (where.isEmpty() && !(corpusVersion.isEmpty() && catalog.isEmpty())) {
      throw new IllegalArgumentException("a corpus version or catalog without a where: they name what a where runs on");
    }
  }

  /** A selection over the dataset's own catalog. */
  public Selection(String where, String corpusVersion) {
    this(where, corpusVersion, "");
  }

  /** Whether a catalog's query chooses the samples (else every sample is read). */
  public boolean chooses() {
    return !where.isEmpty();
  }

  /** The selection of {@code where}, {@code corpus-version} and {@code catalog} set at {@code at}. */
  static Selection read(String where, String corpusVersion, String catalog, String at) {
    try {
      return new Selection(where, corpusVersion, catalog);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(at + (corpusVersion.isBlank() ? ".catalog" : ".corpus-version"), "is set but " + at
          + ".where is not: " + e.getMessage());
    }
  }
}
