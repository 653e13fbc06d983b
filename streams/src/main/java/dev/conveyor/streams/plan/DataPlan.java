package dev.conveyor.streams.plan;

import dev.conveyor.streams.cursor.Cursor;
import java.util.ArrayList;
import java.util.List;

/**
 * The deterministic plan of a recipe: for every epoch and rank, which samples in which order and
 * batches. A pure function of (recipe, epoch, world size, rank) — and, after a resume at
 * another world size, of the cursor. Nothing is read; costs O(shards) per epoch, never
 * O(samples).
 *
 * <p>Per epoch: shards are put in a seeded order, and their samples laid end to end form the
 * epoch's sequence. The sequence is split into one contiguous part per rank ({@link Split}),
 * so a rank reads whole shards plus at most two partial ones. A rank's part is cut into
 * windows of {@code window-shards} consecutive shard pieces, and each window's samples are
 * shuffled by {@link WindowShuffle}. After an elastic resume, what no rank had consumed yet —
 * the windows' remaining positions, old rank by old rank — is the sequence that is split
 * among the new ranks.
 */
public final class DataPlan {
  private final Recipe recipe;
  // the orders last asked for: one epoch's (O(shards) each, so one at a time), or a mix's sources and a pass or two of each
  private final java.util.Map<List<Integer>, EpochOrder> cached;

  public DataPlan(Recipe recipe) {
    this.recipe = recipe;
    int keep = recipe.mix().map(m -> 2 * m.sources().size() + 2).orElse(1);
    this.cached = new java.util.LinkedHashMap<>(keep + 1, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(java.util.Map.Entry<List<Integer>, EpochOrder> eldest) {
        return size() > keep;
      }
    };
  }

  public Recipe recipe() {
    return recipe;
  }

  EpochOrder order(int epoch) {
    return order(epoch, 0, 0);
  }

  /** The shard order of {@code epoch} (of a mix's source {@code source}, its pass {@code pass}). */
  synchronized EpochOrder order(int epoch, int source, int pass) {
    return cached.computeIfAbsent(List.of(epoch, source, pass), k -> new EpochOrder(recipe, epoch, source, pass));
  }

  /** What {@code rank} of {@code world} delivers from the cursor's position in its epoch. */
  public RankSegment rank(Cursor cursor, int world, int rank) {
    if (rank < 0 || rank >= world) {
      throw new IllegalArgumentException("rank " + rank + " outside world of " + world);
    }
    if (recipe.mixed()) {
      return MixPlan.rank(this, cursor, world, rank);
    }
    if (recipe.fullBatches()) {
      return recipe.bucketing().isPresent() ? BucketPlan.rank(this, cursor, world, rank)
          : FullPlan.rank(this, cursor, world, rank);
    }
    int epoch = cursor.epoch();
    List<Cursor.Segment> segs = cursor.segments();
    int b = recipe.batchSize();
    int w0 = segs.get(0).world();
    Split split = Split.of(order(epoch).total(), w0, b, recipe.dropLast());
    if (segs.size() == 1 && w0 == world) { // no elastic re-split: only this rank's part is needed
      return new RankSegment(epoch, rank, world, windows(epoch, split.start(rank), split.size(rank)), split.size(rank),
          split.steps(), Math.min(segs.get(0).batches(rank), split.steps()), 0, b, split.dropped());
    }
    List<List<WindowSlice>> seqs = new ArrayList<>(w0);
    for (int r = 0; r < w0; r++) {
      seqs.add(windows(epoch, split.start(r), split.size(r)));
    }
    long stepBase = 0;
    for (int j = 0; ; j++) {
      Cursor.Segment seg = segs.get(j);
      boolean last = j == segs.size() - 1;
      if (last && seg.world() == world) {
        return new RankSegment(epoch, rank, world, seqs.get(rank), split.size(rank), split.steps(),
            Math.min(seg.batches(rank), split.steps()), stepBase, b, split.dropped());
      }
      List<WindowSlice> remaining = new ArrayList<>();
      long maxDone = 0;
      for (int r = 0; r < seg.world(); r++) {
        long consumed = Math.min(seg.batches(r) * b, split.size(r));
        remaining.addAll(Sequences.drop(seqs.get(r), consumed));
        maxDone = Math.max(maxDone, Math.min(seg.batches(r), split.steps()));
      }
      stepBase += maxDone;
      int next = last ? world : segs.get(j + 1).world();
      split = Split.of(Sequences.length(remaining), next, b, recipe.dropLast());
      seqs = new ArrayList<>(next);
      for (int r = 0; r < next; r++) {
        seqs.add(Sequences.cut(remaining, split.start(r), split.size(r)));
      }
      if (last) {
        return new RankSegment(epoch, rank, world, seqs.get(rank), split.size(rank), split.steps(), 0, stepBase, b, split.dropped());
      }
    }
  }

  /** The windows of the part {@code [start, start + n)} of an epoch's sequence, whole. */
  List<WindowSlice> windows(int epoch, long start, long n) {
    return windows(epoch, 0, 0, start, n);
  }

  /** The same, of a mix's source {@code source}, its pass {@code pass}. */
  List<WindowSlice> windows(int epoch, int source, int pass, long start, long n) {
    List<WindowSlice> out = new ArrayList<>();
    if (n == 0) {
      return out;
    }
    EpochOrder o = order(epoch, source, pass);
    long end = start + n;
    int first = o.positionOf(start);
    int k = recipe.shuffle().windowShards();
    for (int p = first; p < o.shards(); p += k) {
      long a = Math.max(start, o.start(p));
      if (a >= end) {
        break;
      }
      long z = Math.min(end, o.start(Math.min(p + k, o.shards())));
      if (z > a) {
        Window w = new Window(epoch, source, pass, a, z);
        out.add(new WindowSlice(w, 0, w.size()));
      }
    }
    return out;
  }

  /** The shard pieces a window spans, in epoch order, empty shards left out. */
  public List<ShardTask> tasks(Window w) {
    EpochOrder o = order(w.epoch(), w.source(), w.pass());
    List<ShardTask> out = new ArrayList<>();
    for (int p = o.positionOf(w.start()); p < o.shards() && o.start(p) < w.end(); p++) {
      long s = o.start(p);
      long e = o.start(p + 1);
      long a = Math.max(w.start(), s);
      long z = Math.min(w.end(), e);
      if (z > a) {
        out.add(new ShardTask(o.shardAt(p), (int) (a - s), (int) (z - s)));
      }
    }
    return out;
  }

  /** A new shuffle machine for a window (the reader feeds it real samples). */
  public <T> WindowShuffle<T> shuffle(Window w, List<ShardTask> tasks) {
    int[] sizes = new int[tasks.size()];
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] = tasks.get(i).size();
    }
    long seed = recipe.mixed() ? Seeds.derive(recipe.seed(), w.epoch(), w.start(), w.end(), w.source(), w.pass())
        : Seeds.derive(recipe.seed(), w.epoch(), w.start(), w.end());
    return new WindowShuffle<>(sizes, seed,
        recipe.shuffle().bufferSamples(), recipe.shuffle().enabled());
  }

  /** A sample of the plan: the shard and the sample's index in it (in shard order). */
  public record PlannedSample(int shard, int index) {}

  /** The samples at positions {@code [from, to)} of a window's order, computed without reading anything. */
  public List<PlannedSample> samples(WindowSlice slice) {
    List<ShardTask> tasks = tasks(slice.window());
    WindowShuffle<PlannedSample> m = shuffle(slice.window(), tasks);
    int[] taken = new int[tasks.size()];
    List<PlannedSample> out = new ArrayList<>((int) slice.size());
    long pos = 0;
    while (m.needsInput() && pos < slice.to()) {
      int t = m.chooseTask();
      PlannedSample e = m.offer(new PlannedSample(tasks.get(t).shard(), tasks.get(t).from() + taken[t]++));
      if (e != null) {
        if (pos >= slice.from()) {
          out.add(e);
        }
        pos++;
      }
    }
    while (!m.isEmpty() && pos < slice.to()) {
      PlannedSample e = m.drainOne();
      if (pos >= slice.from()) {
        out.add(e);
      }
      pos++;
    }
    return out;
  }

  /**
   * Every sample {@code seg} delivers from its first position on, in order — in a mix, batch by
   * batch, each batch's sources in turn (for tests and tools; O(samples)).
   */
  public List<PlannedSample> samples(RankSegment seg) {
    List<PlannedSample> out = new ArrayList<>();
    if (seg.mixed().isEmpty()) {
      for (WindowSlice s : seg.toRead()) {
        out.addAll(samples(s));
      }
      return out;
    }
    MixedReads m = seg.mixed().get();
    List<java.util.Iterator<PlannedSample>> from = new ArrayList<>();
    for (int s = 0; s < m.sequences().size(); s++) {
      List<PlannedSample> source = new ArrayList<>();
      for (WindowSlice w : m.toRead(s)) {
        source.addAll(samples(w));
      }
      from.add(source.iterator());
    }
    Mix.Schedule schedule = m.schedule();
    boolean first = true; // the first batch's shares from the segment's first slot on
    while (schedule.batches() < seg.steps()) {
      int[] counts = schedule.next();
      for (int s = 0; s < counts.length; s++) {
        for (long i = first ? m.firstShareTaken(s) : 0; i < counts[s]; i++) {
          out.add(from.get(s).next());
        }
      }
      first = false;
    }
    return out;
  }
}
