package dev.conveyor.sim.check;

import dev.conveyor.sim.check.Verdict.Violation;
import dev.conveyor.sim.history.Event.Attempt;
import dev.conveyor.sim.history.Event.Batch;
import dev.conveyor.sim.history.Event.Checkpoint;
import dev.conveyor.sim.history.Event.DeadLetter;
import dev.conveyor.sim.history.Event.Fault;
import dev.conveyor.sim.history.History;
import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Judges a simulation's history against the history of a fault-free reference run of the same
 * recipe. The batches a trainer kept are those of each run up to the cursor the next run
 * resumed from, then the next run's (a trainer that went down with its host resumes from the
 * saved cursor); of these it checks that
 * <ul>
 *   <li>per rank, the batch sequence is the reference's, byte for byte: a batch delivered twice
 *       is a <b>duplicate</b>, one never delivered a <b>gap</b>, one delivered before its turn a
 *       <b>reorder</b>, one with the reference's samples but other bytes <b>changed-bytes</b>;</li>
 *   <li>every sample of an epoch is delivered exactly once (<b>duplicate-sample</b>,
 *       <b>missing-sample</b>, <b>extra-sample</b>);</li>
 *   <li>every cursor saved at a checkpoint belongs to the recipe and claims no batch not yet
 *       delivered, never goes back, and every resume starts from a cursor that was saved; the
 *       job ends at the reference's cursor (<b>wrong-cursor</b>, <b>bad-resume</b>);</li>
 *   <li>bad samples are dead-lettered as in the reference and counted (<b>dead-letters</b>);</li>
 *   <li>the job's exit code is the scenario's (<b>exit</b>), and every fault was applied
 *       (<b>fault-not-applied</b>), where the scenario says: a fault timed by batch at that very
 *       batch, an S3 fault faulting at least one request (<b>fault-missed</b>).</li>
 * </ul>
 * The record of a run is its client's, fed by the trainer host's reports: when the host goes
 * down, the last batches its trainers took may not have been reported. In a run that ended so
 * (and only there), a saved cursor may claim up to {@link #IN_FLIGHT} batches per rank beyond the
 * record, and the next run's resume takes them on the cursor's word; each is listed in the
 * verdict's notes, and more than that is a violation.
 */
public final class Checker {
  /** At most this many violations of one kind are listed; the rest are counted in the last. */
  static final int LIST = 5;
  /** Batches per rank a trainer host that went down may have handed its trainers without reporting them. */
  static final int IN_FLIGHT = 4;

  private final List<Violation> violations = new ArrayList<>();
  private final Map<String, Integer> perKind = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();
  private Map<Integer, List<Batch>> expected = Map.of();

  private Checker() {}

  /** The verdict on {@code run} against {@code reference}, whose job must end with {@code expectExit}. */
  public static Verdict check(History run, History reference, int expectExit) {
    Checker c = new Checker();
    c.judge(run, reference, expectExit);
    List<String> applied = new ArrayList<>();
    List<String> notApplied = new ArrayList<>();
    for (Fault f : run.of(Fault.class)) {
      (f.applied() ? applied : notApplied).add(f.fault() + (f.detail().isEmpty() ? "" : ": " + f.detail()));
    }
    return new Verdict(c.violations, applied, notApplied, c.notes);
  }

  private void violation(String kind, String message) {
    int n = perKind.merge(kind, 1, Integer::sum);
    if (n <= LIST) {
      violations.add(new Violation(kind, message));
    } else if (n == LIST + 1) {
      violations.add(new Violation(kind, "and more of this kind (only the first " + LIST + " are listed)"));
    }
  }

  private void judge(History run, History reference, int expectExit) {
    List<Attempt> refAttempts = reference.of(Attempt.class);
    if (refAttempts.isEmpty() || reference.of(Batch.class).isEmpty()) {
      violation("no-reference", "the reference run delivered nothing: there is nothing to compare with");
      return;
    }
    Attempt ref = refAttempts.get(refAttempts.size() - 1);
    Cursor refCursor = decodeOrNull(ref.cursor());
    List<Attempt> attempts = run.of(Attempt.class).stream().sorted(Comparator.comparingInt(Attempt::attempt)).toList();
    if (attempts.isEmpty()) {
      violation("exit", "the job never ran");
      return;
    }
    Map<Integer, List<Batch>> expected = new TreeMap<>();
    for (Batch b : reference.of(Batch.class)) {
      expected.computeIfAbsent(b.rank(), r -> new ArrayList<>()).add(b);
    }
    this.expected = expected;
    Map<Integer, List<Batch>> kept = new TreeMap<>(); // per rank, what the trainers kept so far
    Set<String> saved = new HashSet<>();
    Attempt before = null;
    for (Attempt a : attempts) {
      if (a.attempt() > 1) {
        resume(a, before, saved, kept);
      }
      before = a;
      for (Batch b : run.of(Batch.class)) {
        if (b.attempt() == a.attempt()) {
          kept.computeIfAbsent(b.rank(), r -> new ArrayList<>()).add(b);
        }
      }
      checkpoints(run, a, kept, refCursor, saved);
      saved.add(a.cursor());
    }
    Set<Integer> ranks = new TreeSet<>(expected.keySet());
    ranks.addAll(kept.keySet());
    for (int r : ranks) {
      Sequences.firstDivergence(r, kept.getOrDefault(r, List.of()), expected.getOrDefault(r, List.of()))
          .ifPresent(v -> violation(v.kind(), v.message()));
    }
    samples(kept, expected);
    Attempt last = attempts.get(attempts.size() - 1);
    if (last.exit() != expectExit) {
      violation("exit", "the job's last run ended with exit code " + last.exit() + ", the scenario expects " + expectExit);
    }
    if (last.exit() == 0 && ref.exit() == 0 && !last.cursor().equals(ref.cursor())) {
      violation("wrong-cursor", "the job ended at cursor " + last.cursor() + ", the reference at " + ref.cursor());
    }
    deadLetters(run, reference, attempts, ref);
    for (Fault f : run.of(Fault.class)) {
      if (!f.applied()) {
        violation(f.detail().startsWith(Fault.MISSED) ? "fault-missed" : "fault-not-applied", f.fault() + ": " + f.detail());
      }
    }
  }

  /**
   * Run {@code a} resumed after run {@code before}: it must say from where, from a saved cursor;
   * the trainers keep what came before it (with what the host handed them unreported, when it went down).
   */
  private void resume(Attempt a, Attempt before, Set<String> saved, Map<Integer, List<Batch>> kept) {
    Cursor from = decodeOrNull(a.resumedFrom());
    if (from == null) {
      violation("bad-resume", "run " + a.attempt() + " resumed (" + a.resume() + ") but did not say from which cursor");
      return;
    }
    if (a.resume().contains(Attempt.TORN) && a.fellBack().isEmpty()) {
      violation("bad-resume", "run " + a.attempt() + " found latest.cursor torn but did not say it fell back to an older"
          + " cursor");
    }
    if (!saved.contains(a.resumedFrom())) {
      violation("bad-resume", "run " + a.attempt() + " resumed from " + a.resumedFrom() + ", a cursor no run saved");
    }
    for (int rank = 0; rank < from.current().world(); rank++) {
      kept.computeIfAbsent(rank, r -> new ArrayList<>());
    }
    for (Map.Entry<Integer, List<Batch>> e : kept.entrySet()) {
      int rank = e.getKey();
      long keep = rank < from.current().world() ? from.current().batches(rank) : 0;
      List<Batch> upTo = new ArrayList<>();
      long inEpoch = 0;
      for (Batch b : e.getValue()) {
        if (b.epoch() < from.epoch() || b.epoch() == from.epoch() && inEpoch++ < keep) {
          upTo.add(b);
        }
      }
      long unreported = upTo.stream().filter(b -> b.epoch() == from.epoch()).count();
      long missing = keep - unreported;
      if (missing > 0 && before.hostLost() && missing <= IN_FLIGHT && rankMatchesReference(rank, upTo)) {
        // taken by the trainer as its host went down, not reported: the reference's, on the cursor's word
        List<Batch> want = expected.getOrDefault(rank, List.of());
        for (int i = upTo.size(); i < upTo.size() + missing && i < want.size(); i++) {
          notes.add("run " + before.attempt() + ": rank " + rank + " epoch " + from.epoch() + " step " + want.get(i).step()
              + " was taken by its trainer as the trainer host went down, unreported (resumed after it, on the cursor's word)");
        }
        upTo.addAll(want.subList(Math.min(upTo.size(), want.size()), (int) Math.min(upTo.size() + missing, want.size())));
      }
      e.setValue(upTo);
    }
  }

  /** Whether {@code got} is the start of rank {@code rank}'s reference sequence (else the sequence check names why). */
  private boolean rankMatchesReference(int rank, List<Batch> got) {
    List<Batch> want = expected.getOrDefault(rank, List.of());
    if (got.size() > want.size()) {
      return false;
    }
    for (int i = 0; i < got.size(); i++) {
      if (!Sequences.same(got.get(i), want.get(i))) {
        return false;
      }
    }
    return true;
  }

  private void checkpoints(History run, Attempt a, Map<Integer, List<Batch>> kept, Cursor ref, Set<String> saved) {
    Cursor previous = null;
    for (Checkpoint c : run.of(Checkpoint.class)) {
      if (c.attempt() != a.attempt()) {
        continue;
      }
      saved.add(c.cursor());
      Cursor cur = decodeOrNull(c.cursor());
      String at = "the cursor saved at " + c.t() + " ms in run " + a.attempt();
      if (cur == null) {
        violation("wrong-cursor", at + " does not decode: " + c.cursor());
        continue;
      }
      if (ref != null && !cur.fingerprint().equals(ref.fingerprint())) {
        violation("wrong-cursor", at + " belongs to another recipe (fingerprint " + cur.fingerprint() + ", the job's is "
            + ref.fingerprint() + ")");
        continue;
      }
      if (ref != null && cur.current().world() != ref.current().world()) {
        violation("wrong-cursor", at + " has world size " + cur.current().world() + ", the job " + ref.current().world());
      }
      for (int r = 0; r < cur.current().world(); r++) {
        long claimed = cur.current().batches(r);
        long delivered = kept.getOrDefault(r, List.of()).stream().filter(b -> b.epoch() == cur.epoch()).count();
        if (claimed > delivered && a.hostLost() && claimed - delivered <= IN_FLIGHT) {
          continue; // batches its trainer took as the host went down, unreported: see resume()
        }
        if (claimed > delivered) {
          violation("wrong-cursor", at + " says rank " + r + " took " + claimed + " batches of epoch " + cur.epoch()
              + ", but it was delivered " + delivered);
        }
      }
      if (previous != null && behind(cur, previous)) {
        violation("wrong-cursor", at + " (" + cur + ") is behind the one saved before it (" + previous + ")");
      }
      previous = cur;
    }
  }

  /** Whether {@code c} is before {@code than}: an earlier epoch, or a rank with fewer batches in the same one. */
  private static boolean behind(Cursor c, Cursor than) {
    if (c.epoch() != than.epoch()) {
      return c.epoch() < than.epoch();
    }
    for (int r = 0; r < Math.min(c.current().world(), than.current().world()); r++) {
      if (c.current().batches(r) < than.current().batches(r)) {
        return true;
      }
    }
    return false;
  }

  /** Every sample of each epoch delivered exactly once, and the reference's samples all. */
  private void samples(Map<Integer, List<Batch>> kept, Map<Integer, List<Batch>> expected) {
    Map<Integer, Map<String, Integer>> got = keysByEpoch(kept);
    Map<Integer, Map<String, Integer>> want = keysByEpoch(expected);
    Set<Integer> epochs = new TreeSet<>(want.keySet());
    epochs.addAll(got.keySet());
    for (int e : epochs) {
      Map<String, Integer> g = got.getOrDefault(e, Map.of());
      Map<String, Integer> w = want.getOrDefault(e, Map.of());
      for (Map.Entry<String, Integer> k : new TreeMap<>(g).entrySet()) {
        if (k.getValue() > 1) {
          violation("duplicate-sample", "sample " + k.getKey() + " was delivered " + k.getValue() + " times in epoch " + e);
        } else if (!w.containsKey(k.getKey())) {
          violation("extra-sample", "sample " + k.getKey() + " was delivered in epoch " + e + ", the reference did not");
        }
      }
      for (String k : new TreeSet<>(w.keySet())) {
        if (!g.containsKey(k)) {
          violation("missing-sample", "sample " + k + " of epoch " + e + " was never delivered");
        }
      }
    }
  }

  private static Map<Integer, Map<String, Integer>> keysByEpoch(Map<Integer, List<Batch>> byRank) {
    Map<Integer, Map<String, Integer>> out = new TreeMap<>();
    for (List<Batch> batches : byRank.values()) {
      for (Batch b : batches) {
        Map<String, Integer> m = out.computeIfAbsent(b.epoch(), e -> new LinkedHashMap<>());
        b.keys().forEach(k -> m.merge(k, 1, Integer::sum));
      }
    }
    return out;
  }

  /** The samples dead-lettered are the reference's, and each run counted what it listed. */
  private void deadLetters(History run, History reference, List<Attempt> attempts, Attempt ref) {
    Set<String> got = new TreeSet<>();
    run.of(DeadLetter.class).forEach(d -> got.add(d.shard() + " " + d.key() + ": " + d.reason()));
    Set<String> want = new TreeSet<>();
    reference.of(DeadLetter.class).forEach(d -> want.add(d.shard() + " " + d.key() + ": " + d.reason()));
    for (String d : want) {
      if (!got.contains(d)) {
        violation("dead-letters", "the reference dead-lettered " + d + "; the job did not");
      }
    }
    for (String d : got) {
      if (!want.contains(d)) {
        violation("dead-letters", "the job dead-lettered " + d + "; the reference did not");
      }
    }
    for (Attempt a : attempts) {
      long listed = run.of(DeadLetter.class).stream().filter(d -> d.attempt() == a.attempt()).count();
      if (a.exit() == 0 && a.badSamples() != listed) {
        violation("dead-letters", "run " + a.attempt() + " counted " + a.badSamples() + " bad samples but listed " + listed);
      }
    }
    if (attempts.size() == 1 && attempts.get(0).exit() == 0 && attempts.get(0).badSamples() != ref.badSamples()) {
      violation("dead-letters", "the job counted " + attempts.get(0).badSamples() + " bad samples, the reference "
          + ref.badSamples());
    }
  }

  private static Cursor decodeOrNull(String token) {
    if (token == null || token.isBlank()) {
      return null;
    }
    try {
      return Cursor.decode(token.trim());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
