package dev.conveyor.streams.plan;

/**
 * How a recipe of full batches makes a batch of kept samples, when not one sample a place:
 * rows of packed tokens ({@link Packing}), or samples of similar length together
 * ({@link Bucketing}). Named in the recipe's fingerprint.
 */
public sealed interface BatchShape permits Packing, Bucketing {
  /** The samples' token field it reads. */
  String field();

  /** For the recipe's fingerprint. */
  String describe();
}
