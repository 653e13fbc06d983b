package dev.conveyor.orchestrator.checkpoint;

import dev.conveyor.config.SettingsException;
import dev.conveyor.streams.cursor.Cursor;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.stream.Materializer;

/** Where a job resumes: a cursor token (or the newest saved cursor) checked against the job's recipe. */
public final class ResumePoint {
  private ResumePoint() {}

  /** {@code --resume auto} ({@code --resume-or-start}): the newest cursor when there is one, else the start. */
  public static final String AUTO = "auto";

  /** What a run told to resume or start says when it starts. */
  public static final String NO_CURSOR_YET = "no cursor in the checkpoint directory yet: starting from the beginning";

  /** The refusal of {@code --resume latest} or {@code auto} for a job that keeps no cursors. */
  public static SettingsException noCheckpointDir() {
    return new SettingsException("--resume", "\"latest\" and \"auto\" need a checkpoint directory: give --checkpoint-dir (or"
        + " checkpoint-dir in the job file)");
  }

  /**
   * The cursor a run resumes from: {@code token} is a cursor token, "latest" for the newest in
   * {@code checkpoints}, or "auto" for the newest when there is one (else the start of the plan); it must belong to the recipe with {@code fingerprint} and lie within
   * {@code epochs}. A cursor saved at another world size is re-split ({@code progress} says so).
   * Throws {@link SettingsException} naming {@code --resume} otherwise.
   */
  public static Cursor of(String token, Optional<CursorStore> checkpoints, String fingerprint, int epochs,
                        int world, Materializer mat, Consumer<String> progress) {
    return of(token, checkpoints, fingerprint, "", epochs, world, mat, progress);
  }

  /**
   * The same, for a recipe whose samples a catalog's query chose as {@code selection} says
   * (empty: every sample): a refusal names it, since a changed catalog or corpus is the usual
   * reason a cursor of the same job file belongs to another recipe.
   */
  public static Cursor of(String token, Optional<CursorStore> checkpoints, String fingerprint, String selection,
                          int epochs, int world, Materializer mat, Consumer<String> progress) {
    String t = token;
    if (token.equals("latest")) {
      t = checkpoints.orElseThrow(ResumePoint::noCheckpointDir).latest(mat, progress);
    } else if (token.equals(AUTO)) {
      Optional<String> newest = checkpoints.orElseThrow(ResumePoint::noCheckpointDir).newest(mat, progress);
      if (newest.isEmpty()) {
        progress.accept(NO_CURSOR_YET);
        return Cursor.start(fingerprint, world);
      }
      t = newest.get();
    }
    Cursor c;
    try {
      c = Cursor.decode(t);
    } catch (IllegalArgumentException e) {
      throw new SettingsException("--resume", e.getMessage());
    }
    if (!c.fingerprint().equals(fingerprint)) {
      throw new SettingsException("--resume", "the cursor belongs to another recipe (fingerprint " + c.fingerprint()
          + ", this job's is " + fingerprint + "): shards, sample counts, seed, batch size, drop-last, shuffle"
          + " and decode settings must match the run that saved it"
          + (selection.isEmpty() ? "" : "; this job reads the samples chosen by " + selection.strip()
              + ": a catalog or corpus that changed since the cursor was saved chooses other samples"));
    }
    if (c.epoch() >= epochs) {
      throw new SettingsException("--resume", "the cursor is in epoch " + c.epoch() + " but the job has only "
          + epochs + " epoch(s): raise epochs to go on");
    }
    if (c.world() != world) {
      progress.accept(String.format(Locale.ROOT, "elastic resume: the cursor was saved at world size %d, this run has %d;"
          + " the rest of epoch %d is re-split among %d ranks", c.world(), world, c.epoch(), world));
    }
    return c.resumedAt(world);
  }
}
