package dev.conveyor.sim.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.sim.history.Event;
import dev.conveyor.sim.history.Event.Attempt;
import dev.conveyor.sim.history.Event.Batch;
import dev.conveyor.sim.history.Event.Checkpoint;
import dev.conveyor.sim.history.History;
import dev.conveyor.streams.cursor.Cursor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checker on recorded histories: a faithful one passes, and each way of breaking one — a
 * batch delivered twice, one never delivered, two swapped, one byte changed, a cursor that
 * claims more than was delivered, a resume from a cursor never saved — is caught and named.
 */
class CheckerTest {
  static final String FP = "9b78cdd5e104f337";
  static final int WORLD = 2;
  static final int EPOCHS = 2;
  static final int STEPS = 4;

  @TempDir
  Path dir;

  /** Batch {@code step} of rank {@code rank} in {@code epoch}: two samples, digests that name them. */
  static Batch batch(int attempt, int epoch, int rank, int step) {
    List<String> keys = List.of("s" + epoch + "-" + rank + "-" + step + "a", "s" + epoch + "-" + rank + "-" + step + "b");
    return new Batch(attempt, epoch, rank, step, "d" + epoch + rank + step, "k" + epoch + rank + step, keys);
  }

  static String cursor(int epoch, long... batches) {
    Cursor c = Cursor.start(FP, WORLD).atEpoch(epoch, WORLD);
    for (int r = 0; r < batches.length; r++) {
      c = c.withDelivered(r, batches[r]);
    }
    return c.encode();
  }

  /** The reference: every rank's STEPS batches of each epoch, in order, and its final cursor. */
  static List<Event> faithful(int attempt) {
    List<Event> events = new ArrayList<>();
    events.add(new Attempt(attempt, 0, "", "", "", 0, cursor(EPOCHS - 1, STEPS, STEPS), 0, false));
    for (int e = 0; e < EPOCHS; e++) {
      for (int s = 0; s < STEPS; s++) {
        for (int r = 0; r < WORLD; r++) {
          events.add(batch(attempt, e, r, s));
        }
      }
    }
    return events;
  }

  static History reference() {
    return new History(faithful(1));
  }

  static Verdict check(List<Event> run) {
    return Checker.check(new History(run), reference(), 0);
  }

  @Test
  void aFaithfulHistoryWithItsCheckpointsPasses() {
    List<Event> run = faithful(1);
    run.add(new Checkpoint(1, 10, cursor(0, 2, 2)));
    run.add(new Checkpoint(1, 20, cursor(1, 1, 1)));
    run.add(new Event.Fault(5, "kill node 3 at batch 4", "kill", 3, true, ""));
    Verdict v = check(run);
    assertThat(v.violations()).isEmpty();
    assertThat(v.ok()).isTrue();
    assertThat(v.faultsApplied()).containsExactly("kill node 3 at batch 4");
  }

  @Test
  void aBatchDeliveredTwiceIsADuplicate() {
    List<Event> run = faithful(1);
    run.add(run.indexOf(batch(1, 0, 1, 2)) + 1, batch(1, 0, 1, 2));
    Verdict v = check(run);
    assertThat(v.ok()).isFalse();
    assertThat(v.kinds()).contains("duplicate", "duplicate-sample");
    assertThat(v.violations().get(0).message()).contains("rank 1").contains("epoch 0 step 2").contains("twice");
  }

  @Test
  void aBatchNeverDeliveredIsAGap() {
    List<Event> run = faithful(1);
    run.remove(batch(1, 1, 0, 1));
    Verdict v = check(run);
    assertThat(v.kinds()).contains("gap", "missing-sample");
    assertThat(v.violations().get(0).message()).contains("rank 0 skipped epoch 1 steps 1..1");
  }

  @Test
  void twoBatchesSwappedAreAReorder() {
    List<Event> run = faithful(1);
    int a = run.indexOf(batch(1, 0, 0, 1));
    int b = run.indexOf(batch(1, 0, 0, 2));
    run.set(a, batch(1, 0, 0, 2));
    run.set(b, batch(1, 0, 0, 1));
    Verdict v = check(run);
    assertThat(v.kinds()).containsExactly("reorder");
    assertThat(v.violations().get(0).message()).contains("rank 0 was delivered epoch 0 step 2 before step 1");
  }

  @Test
  void oneChangedByteIsChangedBytes() {
    List<Event> run = faithful(1);
    Batch b = batch(1, 1, 1, 3);
    int i = run.indexOf(b);
    // the digest of the batch's bytes differs; the samples are the same
    run.set(i, new Batch(1, 1, 1, 3, b.digest() + "0", b.keysDigest(), b.keys()));
    Verdict v = check(run);
    assertThat(v.kinds()).containsExactly("changed-bytes");
    assertThat(v.violations().get(0).message()).contains("rank 1 epoch 1 step 3");
  }

  @Test
  void aCursorThatClaimsUndeliveredBatchesOrGoesBackIsAWrongCursor() {
    List<Event> run = faithful(1);
    run.add(new Checkpoint(1, 10, cursor(1, 3, 2)));
    run.add(new Checkpoint(1, 20, cursor(1, 5, 2))); // rank 0 has only 4 batches in epoch 1
    run.add(new Checkpoint(1, 30, cursor(0, 1, 1))); // behind the one before
    Verdict v = check(run);
    assertThat(v.kinds()).containsExactly("wrong-cursor");
    assertThat(v.violations()).hasSize(2);
    assertThat(v.violations().get(0).message()).contains("rank 0 took 5 batches of epoch 1, but it was delivered 4");
    assertThat(v.violations().get(1).message()).contains("is behind");
  }

  @Test
  void aCursorOfAnotherRecipeOrAWrongFinalCursorIsAWrongCursor() {
    List<Event> run = faithful(1);
    run.add(new Checkpoint(1, 10, Cursor.start("0123456789abcdef", WORLD).encode()));
    run.set(0, new Attempt(1, 0, "", "", "", 0, cursor(1, 4, 3), 0, false));
    Verdict v = check(run);
    assertThat(v.kinds()).containsExactly("wrong-cursor");
    assertThat(v.violations().get(0).message()).contains("another recipe");
    assertThat(v.violations().get(1).message()).contains("the job ended at cursor");
  }

  @Test
  void aResumeKeepsWhatCameBeforeItsSavedCursorAndMustStartThere() {
    // run 1 delivers epoch 0 and two steps of epoch 1, saving the cursor after one step; the host
    // goes down; run 2 resumes from the saved cursor and delivers the rest: the trainers kept
    // run 1's batches up to the cursor, then run 2's — the reference's sequence
    String saved = cursor(1, 1, 1);
    List<Event> run = new ArrayList<>();
    run.add(new Attempt(1, 0, "", "", "", 1, "", 0, true));
    run.add(new Checkpoint(1, 50, saved));
    for (Event e : faithful(1)) {
      if (e instanceof Batch b && (b.epoch() == 0 || b.step() < 2)) {
        run.add(b);
      }
    }
    run.add(new Attempt(2, 100, "latest", saved, "", 0, cursor(EPOCHS - 1, STEPS, STEPS), 0, false));
    for (Event e : faithful(2)) {
      if (e instanceof Batch b && b.epoch() == 1 && b.step() >= 1) {
        run.add(b);
      }
    }
    assertThat(check(run).violations()).isEmpty();

    // resumed from a cursor that was never saved: named; and its batches do not line up
    List<Event> unsaved = new ArrayList<>(run);
    unsaved.set(unsaved.indexOf(new Attempt(2, 100, "latest", saved, "", 0, cursor(EPOCHS - 1, STEPS, STEPS), 0, false)),
        new Attempt(2, 100, "latest", cursor(1, 2, 2), "", 0, cursor(EPOCHS - 1, STEPS, STEPS), 0, false));
    Verdict v = check(unsaved);
    assertThat(v.kinds()).contains("bad-resume", "duplicate");
  }

  /** Run 1 records epoch 1 up to step {@code recorded} but saved a cursor at step 2; run 2 resumes there. */
  static List<Event> hostWentDown(long recorded, boolean hostLost) {
    String saved = cursor(1, 2, 2);
    List<Event> run = new ArrayList<>();
    run.add(new Attempt(1, 0, "", "", "", 1, "", 0, hostLost));
    run.add(new Checkpoint(1, 50, saved));
    for (Event e : faithful(1)) {
      if (e instanceof Batch b && (b.epoch() == 0 || b.step() < recorded)) {
        run.add(b);
      }
    }
    run.add(new Attempt(2, 100, "latest", saved, "", 0, cursor(EPOCHS - 1, STEPS, STEPS), 0, false));
    for (Event e : faithful(2)) {
      if (e instanceof Batch b && b.epoch() == 1 && b.step() >= 2) {
        run.add(b);
      }
    }
    return run;
  }

  @Test
  void aTrainerHostThatWentDownMayHaveHandedOnBatchesItNeverReportedButOnlyThen() {
    // the cursor says each rank took 2 batches of epoch 1; the host reported 1 before it died
    Verdict down = check(hostWentDown(1, true));
    assertThat(down.violations()).isEmpty();
    assertThat(down.notes()).hasSize(2).allMatch(n -> n.contains("step 1 was taken by its trainer as the trainer host went"
        + " down, unreported"));
    // the same record from a run whose host did not go down: the cursor claims what was never delivered
    assertThat(check(hostWentDown(1, false)).kinds()).contains("wrong-cursor", "gap");
  }

  @Test
  void aFaultNotAppliedAndAnUnexpectedExitFailTheVerdict() {
    List<Event> run = faithful(1);
    run.add(new Event.Fault(5, "partition node 2 at batch 3", "partition", 2, false, "no network namespaces"));
    Verdict v = Checker.check(new History(run), reference(), 3);
    assertThat(v.kinds()).containsExactly("exit", "fault-not-applied");
    assertThat(v.faultsNotApplied()).containsExactly("partition node 2 at batch 3: no network namespaces");
  }

  @Test
  void aFaultThatStruckAtAnotherBatchOrAnS3FaultThatFaultedNothingIsAFaultMissed() {
    List<Event> run = faithful(1);
    run.add(new Event.Fault(5, "kill node 3 at batch 20", "kill", 3, false,
        Event.Fault.MISSED + "due at batch 20, struck at batch 120, 900 ms"));
    run.add(new Event.Fault(9, "s3 healthy (end of s3-slowdown at batch 40 for 5s)", "s3-heal", 0, false,
        Event.Fault.MISSED + "s3-slowdown at batch 40 for 5s faulted no request: 0 request(s) faulted"));
    Verdict v = check(run);
    assertThat(v.ok()).isFalse();
    assertThat(v.kinds()).containsExactly("fault-missed");
    assertThat(v.violations()).hasSize(2);
    assertThat(v.faultsApplied()).isEmpty();
    assertThat(v.violations().get(0).message()).contains("due at batch 20, struck at batch 120");
  }

  @Test
  void deadLettersMustBeTheReferencesAndCounted() {
    List<Event> ref = faithful(1);
    ref.set(0, new Attempt(1, 0, "", "", "", 0, cursor(EPOCHS - 1, STEPS, STEPS), 1, false));
    ref.add(new Event.DeadLetter(1, "part-000001.tar", "k7", ".jpg: not a JPEG"));
    List<Event> run = faithful(1);
    Verdict v = Checker.check(new History(run), new History(ref), 0);
    assertThat(v.kinds()).containsExactly("dead-letters");
    assertThat(v.violations().get(0).message()).contains("the reference dead-lettered part-000001.tar k7");
  }

  @Test
  void aHistoryReadsBackAsItWasWritten() throws Exception {
    List<Event> run = faithful(1);
    run.add(new Checkpoint(1, 10, cursor(0, 2, 2)));
    run.add(new Event.Fault(5, "stop node 2 at batch 4", "stop", 2, true, "pid 7"));
    run.add(new Event.Progress(6, 2, "worker", 120));
    run.add(new Event.DeadLetter(1, "part-000001.tar", "k7", ".jpg: not a JPEG"));
    Path file = dir.resolve("history.jsonl");
    new History(run).write(file);
    assertThat(History.read(file).events()).isEqualTo(run);
    assertThat(Files.readAllLines(file)).hasSize(run.size()).allMatch(l -> l.startsWith("{\"type\":"));
  }
}
