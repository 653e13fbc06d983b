package dev.conveyor.sim.check;

import dev.conveyor.sim.check.Verdict.Violation;
import dev.conveyor.sim.history.Event.Batch;
import java.util.List;
import java.util.Optional;

/** One rank's batches against the reference's: where they first part, and what kind of fault that is. */
final class Sequences {
  private Sequences() {}

  /**
   * Rank {@code r}'s batches {@code got} against the reference's {@code want}: empty when they
   * are the same; else the first place they part, named — a batch delivered again (duplicate),
   * one skipped (gap), one before its turn (reorder), the reference's samples with other bytes
   * (changed-bytes), other samples (different-samples), one the reference never delivered (extra).
   */
  static Optional<Violation> firstDivergence(int r, List<Batch> got, List<Batch> want) {
    int i = 0;
    while (i < got.size() && i < want.size() && same(got.get(i), want.get(i))) {
      i++;
    }
    if (i == got.size() && i == want.size()) {
      return Optional.empty();
    }
    String rank = "rank " + r;
    if (i == got.size()) {
      Batch w = want.get(i);
      return found("gap", rank + " was delivered " + got.size() + " batches, the reference " + want.size() + ": epoch "
          + w.epoch() + " step " + w.step() + " and the " + (want.size() - i - 1) + " after it never came");
    }
    Batch x = got.get(i);
    for (int j = 0; j < i; j++) {
      if (same(got.get(j), x)) {
        return found("duplicate", rank + " was delivered the batch of epoch " + x.epoch() + " step " + got.get(j).step()
            + " twice (again as its batch #" + (i + 1) + ")");
      }
    }
    int k = indexOf(want, x);
    if (i == want.size()) {
      return found(k >= 0 ? "duplicate" : "extra", rank + " was delivered " + got.size() + " batches, the reference "
          + want.size() + (k >= 0 ? ": the batch of epoch " + x.epoch() + " step " + want.get(k).step() + " again" : ""));
    }
    Batch w = want.get(i);
    if (k > i) {
      boolean comesLater = indexOf(got.subList(i + 1, got.size()), w) >= 0;
      return comesLater
          ? found("reorder", rank + " was delivered epoch " + x.epoch() + " step " + want.get(k).step() + " before step "
              + w.step() + " (as its batch #" + (i + 1) + ")")
          : found("gap", rank + " skipped epoch " + w.epoch() + " steps " + w.step() + ".." + want.get(k - 1).step()
              + ": after its batch #" + i + " came the reference's step " + want.get(k).step());
    }
    if (k >= 0) {
      return found("duplicate", rank + " was delivered the batch of epoch " + x.epoch() + " step " + want.get(k).step()
          + " again, as its batch #" + (i + 1));
    }
    if (x.keysDigest().equals(w.keysDigest())) {
      return found("changed-bytes", rank + " epoch " + w.epoch() + " step " + w.step() + ": the reference's samples,"
          + " other bytes (sha256 " + x.digest() + ", the reference's " + w.digest() + ")");
    }
    return found("different-samples", rank + " epoch " + w.epoch() + " step " + w.step() + ": samples " + x.keys()
        + ", the reference's " + w.keys());
  }

  /** The same batch: its epoch, the digest of its bytes and of its keys. */
  static boolean same(Batch a, Batch b) {
    return a.epoch() == b.epoch() && a.digest().equals(b.digest()) && a.keysDigest().equals(b.keysDigest());
  }

  private static int indexOf(List<Batch> list, Batch x) {
    for (int j = 0; j < list.size(); j++) {
      if (same(list.get(j), x)) {
        return j;
      }
    }
    return -1;
  }

  private static Optional<Violation> found(String kind, String message) {
    return Optional.of(new Violation(kind, message));
  }
}
