package dev.conveyor.streams.plan;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A mixed recipe's plan for one rank: each source's epoch (a seeded order of its own shards,
 * per pass) is split among the ranks as evenly as can be, and every batch takes each source's
 * {@link Mix.Schedule} count from the rank's part of it, source by source.
 *
 * <p>The epoch's length: its batches are whole, and it has as many as every rank can fill from
 * the sources that do not repeat — the largest {@code k} for which each such source's first
 * {@code k} batches' share fits in the smallest rank's part. What those sources hold beyond it is
 * left over (counted as dropped, like the drop-last remainder). A repeating source gives each
 * rank its part of pass 0, then of pass 1, and so on, as far as the batches need.
 *
 * <p>After an elastic resume, what the ranks of the earlier world had not consumed of each
 * source — old rank by old rank, what was planned for them — is that source's sequence, split
 * among the new ranks; a repeating source then goes on with the passes not yet planned, and the
 * composition starts again at the segment's first batch.
 */
final class MixPlan {
  private MixPlan() {}

  static RankSegment rank(DataPlan plan, Cursor cursor, int world, int rank) {
    Recipe recipe = plan.recipe();
    Mix mix = recipe.mix().orElseThrow();
    int b = recipe.batchSize();
    int epoch = cursor.epoch();
    int n = mix.sources().size();
    List<List<WindowSlice>> remaining = new ArrayList<>(n);
    int[] nextPass = new int[n];
    for (int s = 0; s < n; s++) {
      remaining.add(plan.windows(epoch, s, 0, 0, plan.order(epoch, s, 0).total()));
      nextPass[s] = 1;
    }
    List<Cursor.Segment> segs = cursor.segments();
    long stepBase = 0;
    for (int j = 0; ; j++) {
      Cursor.Segment seg = segs.get(j);
      boolean last = j == segs.size() - 1;
      int w = seg.world();
      Parts parts = parts(plan, mix, b, epoch, remaining, nextPass, w);
      if (last && w == world) {
        return segment(mix, b, epoch, rank, world, parts, Math.min(seg.batches(rank), parts.steps), stepBase);
      }
      long maxDone = 0;
      for (int s = 0; s < n; s++) {
        List<WindowSlice> left = new ArrayList<>();
        for (int r = 0; r < w; r++) {
          long done = Math.min(seg.batches(r), parts.steps);
          left.addAll(Sequences.drop(parts.sequences.get(s).get(r), mix.taken(b, done)[s]));
        }
        remaining.set(s, left);
        nextPass[s] = parts.nextPass[s];
      }
      for (int r = 0; r < w; r++) {
        maxDone = Math.max(maxDone, Math.min(seg.batches(r), parts.steps));
      }
      stepBase += maxDone;
      if (last) {
        return segment(mix, b, epoch, rank, world, parts(plan, mix, b, epoch, remaining, nextPass, world), 0, stepBase);
      }
    }
  }

  /** Each source's sequence per rank of a world of {@code w}, the batches they fill, and what is left over. */
  private record Parts(List<List<List<WindowSlice>>> sequences, long steps, long dropped, int[] nextPass) {}

  private static Parts parts(DataPlan plan, Mix mix, int b, int epoch, List<List<WindowSlice>> remaining, int[] nextPass,
                             int w) {
    int n = mix.sources().size();
    // the epoch's batches: as many as the smallest rank's part of every source that does not repeat fills
    long[] smallest = new long[n];
    for (int s = 0; s < n; s++) {
      Split split = Split.of(Sequences.length(remaining.get(s)), w, 1, false);
      smallest[s] = split.size(w - 1); // later ranks hold no more than earlier ones
    }
    Mix.Schedule schedule = mix.schedule(b);
    long steps = 0;
    while (true) {
      schedule.next();
      boolean fits = true;
      for (int s = 0; s < n; s++) {
        if (!mix.sources().get(s).repeat() && schedule.taken(s) > smallest[s]) {
          fits = false;
        }
      }
      if (!fits) {
        break;
      }
      steps++;
    }
    long[] needed = mix.taken(b, steps);
    List<List<List<WindowSlice>>> sequences = new ArrayList<>(n);
    int[] passes = nextPass.clone();
    long dropped = 0;
    for (int s = 0; s < n; s++) {
      List<WindowSlice> rem = remaining.get(s);
      Split split = Split.of(Sequences.length(rem), w, 1, false);
      List<List<WindowSlice>> perRank = new ArrayList<>(w);
      for (int r = 0; r < w; r++) {
        perRank.add(new ArrayList<>(Sequences.cut(rem, split.start(r), split.size(r))));
      }
      if (mix.sources().get(s).repeat()) {
        // further passes, each split the same way, until every rank has what the batches need
        long need = needed[s];
        while (perRank.stream().anyMatch(seq -> Sequences.length(seq) < need)) {
          int pass = passes[s]++;
          long total = plan.order(epoch, s, pass).total();
          if (total == 0) {
            throw new IllegalArgumentException("source " + mix.sources().get(s).name() + " repeats but holds no samples");
          }
          Split p = Split.of(total, w, 1, false);
          for (int r = 0; r < w; r++) {
            perRank.get(r).addAll(plan.windows(epoch, s, pass, p.start(r), p.size(r)));
          }
        }
      } else {
        dropped += Sequences.length(rem) - (long) w * needed[s];
      }
      sequences.add(perRank);
    }
    return new Parts(sequences, steps, dropped, passes);
  }

  /** Rank {@code rank}'s segment: its sources' sequences cut to what the batches take. */
  private static RankSegment segment(Mix mix, int b, int epoch, int rank, int world, Parts parts, long firstBatch,
                                     long stepBase) {
    long[] needed = mix.taken(b, parts.steps);
    List<List<WindowSlice>> mine = new ArrayList<>();
    for (int s = 0; s < needed.length; s++) {
      mine.add(Sequences.cut(parts.sequences.get(s).get(rank), 0, needed[s]));
    }
    return new RankSegment(epoch, rank, world, List.of(), parts.steps * b, parts.steps, firstBatch, stepBase, b,
        parts.dropped, Optional.of(new MixedReads(mix, b, firstBatch, mine)));
  }
}
