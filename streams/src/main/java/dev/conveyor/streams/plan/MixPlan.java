package dev.conveyor.streams.plan;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

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
 *
 * <p>With full batches a rank's stream is the same — the batches' shares one after another,
 * {@link MixPositions} — but a batch is its next {@code B} kept samples however many positions
 * that takes, so shares are the composition of planned positions, not of kept samples. The
 * cursor records each rank's position in its stream (and the outputs delivered of a sample a
 * flatMap made into several); what a rank consumed of each source is what the positions before
 * it took, and an elastic resume re-splits the rest of each source as above, partly delivered
 * samples carried with the outputs to skip.
 */
final class MixPlan {
  private MixPlan() {}

  static RankSegment rank(DataPlan plan, Cursor cursor, int world, int rank) {
    Recipe recipe = plan.recipe();
    Mix mix = recipe.mix().orElseThrow();
    boolean full = recipe.fullBatches();
    int b = recipe.batchSize();
    int epoch = cursor.epoch();
    int n = mix.sources().size();
    List<List<WindowSlice>> remaining = new ArrayList<>(n);
    // per source: samples of what remains a flatMap made into several, some outputs of which were delivered
    List<TreeMap<Long, Long>> skips = new ArrayList<>(n);
    int[] nextPass = new int[n];
    for (int s = 0; s < n; s++) {
      remaining.add(plan.windows(epoch, s, 0, 0, plan.order(epoch, s, 0).total()));
      skips.add(new TreeMap<>());
      nextPass[s] = 1;
    }
    List<Cursor.Segment> segs = cursor.segments();
    long stepBase = 0;
    for (int j = 0; ; j++) {
      Cursor.Segment seg = segs.get(j);
      boolean last = j == segs.size() - 1;
      int w = seg.world();
      Parts parts = parts(plan, mix, b, epoch, remaining, nextPass, w);
      if (full) {
        FullPlan.check(seg, r -> parts.steps * b); // positions in each rank's stream
      }
      if (last && w == world) {
        long done = full ? seg.batches(rank) : Math.min(seg.batches(rank), parts.steps);
        long first = full ? seg.position(rank) : done * b;
        Map<Long, Long> mine = full ? merged(mix, b, parts, rankSkips(skips, parts, rank), first) : Map.of();
        if (full && seg.offset(rank) > 0) {
          mine.put(first, seg.offset(rank));
        }
        return segment(recipe, epoch, rank, world, parts, done, first, stepBase, mine);
      }
      long maxDone = 0;
      long[][] consumed = new long[w][];
      for (int r = 0; r < w; r++) {
        long done = full ? seg.batches(r) : Math.min(seg.batches(r), parts.steps);
        consumed[r] = full ? MixPositions.before(mix, b, seg.position(r)) : mix.taken(b, done);
        maxDone = Math.max(maxDone, done);
      }
      for (int s = 0; s < n; s++) {
        List<WindowSlice> left = new ArrayList<>();
        TreeMap<Long, Long> leftSkips = new TreeMap<>();
        for (int r = 0; r < w; r++) {
          long base = Sequences.length(left);
          long c = consumed[r][s];
          rankSkips(skips, parts, r).get(s).tailMap(c).forEach((at, k) -> leftSkips.put(base + at - c, k));
          if (full && seg.offset(r) > 0 && MixPositions.at(mix, b, seg.position(r)).source() == s) {
            leftSkips.put(base, seg.offset(r)); // the sample at the rank's position, partly delivered
          }
          left.addAll(Sequences.drop(parts.sequences.get(s).get(r), c));
        }
        remaining.set(s, left);
        skips.set(s, leftSkips);
        nextPass[s] = parts.nextPass[s];
      }
      stepBase += maxDone;
      if (last) {
        Parts now = parts(plan, mix, b, epoch, remaining, nextPass, world);
        return segment(recipe, epoch, rank, world, now, 0, 0, stepBase,
            merged(mix, b, now, rankSkips(skips, now, rank), 0));
      }
    }
  }

  /** Rank {@code r}'s skips, per source, numbered in its part of that source. */
  private static List<TreeMap<Long, Long>> rankSkips(List<TreeMap<Long, Long>> skips, Parts parts, int r) {
    List<TreeMap<Long, Long>> out = new ArrayList<>(skips.size());
    for (int s = 0; s < skips.size(); s++) {
      long from = parts.splits.get(s).start(r);
      TreeMap<Long, Long> mine = new TreeMap<>();
      skips.get(s).subMap(from, from + parts.splits.get(s).size(r)).forEach((at, k) -> mine.put(at - from, k));
      out.add(mine);
    }
    return out;
  }

  /**
   * Per-source skips as positions of the rank's stream, those from {@code first} on; a sample
   * past what the batches take of its source (left over by the epoch's rule) is in no stream.
   */
  private static Map<Long, Long> merged(Mix mix, int b, Parts parts, List<TreeMap<Long, Long>> perSource, long first) {
    Map<Long, Long> out = new TreeMap<>();
    long[] needed = mix.taken(b, parts.steps);
    for (int s = 0; s < perSource.size(); s++) {
      int source = s;
      perSource.get(s).headMap(needed[s]).forEach((at, k) -> {
        long p = MixPositions.position(mix, b, new MixPositions.Place(source, at), parts.steps);
        if (p >= first) {
          out.put(p, k);
        }
      });
    }
    return out;
  }

  /** Each source's sequence per rank of a world of {@code w}, the batches they fill, and what is left over. */
  private record Parts(List<List<List<WindowSlice>>> sequences, List<Split> splits, long steps, long dropped,
                       int[] nextPass) {}

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
    List<Split> splits = new ArrayList<>(n);
    int[] passes = nextPass.clone();
    long dropped = 0;
    for (int s = 0; s < n; s++) {
      List<WindowSlice> rem = remaining.get(s);
      Split split = Split.of(Sequences.length(rem), w, 1, false);
      splits.add(split);
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
    return new Parts(sequences, splits, steps, dropped, passes);
  }

  /**
   * Rank {@code rank}'s segment: its sources' sequences cut to what the batches take, delivery
   * from batch {@code firstBatch} at position {@code first} of its stream.
   */
  private static RankSegment segment(Recipe recipe, int epoch, int rank, int world, Parts parts, long firstBatch,
                                     long first, long stepBase, Map<Long, Long> skips) {
    Mix mix = recipe.mix().orElseThrow();
    int b = recipe.batchSize();
    long[] needed = mix.taken(b, parts.steps);
    List<List<WindowSlice>> mine = new ArrayList<>();
    for (int s = 0; s < needed.length; s++) {
      mine.add(Sequences.cut(parts.sequences.get(s).get(rank), 0, needed[s]));
    }
    long size = parts.steps * b;
    return new RankSegment(epoch, rank, world, List.of(), size, parts.steps, firstBatch, stepBase, b, parts.dropped,
        Optional.of(new MixedReads(mix, b, first, mine)), Math.min(first, size), recipe.fullBatches(), skips,
        recipe.shape());
  }
}
