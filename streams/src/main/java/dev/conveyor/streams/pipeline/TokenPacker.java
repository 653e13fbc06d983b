package dev.conveyor.streams.pipeline;

import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.plan.Packing;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Full batches of packed rows ({@link Packing}): each batch is {@code batch} rows of exactly
 * {@code length} tokens from the samples' {@code field} arrays, first fit, a sample split where
 * no row has room for all of it. A row is a sample whose key joins its pieces' keys with "+",
 * holding {@code field} (int32 {@code [length]}) and {@code field_segments} (each token's piece
 * in the row, from 1). A slot's tokens are its sample's, or its flatMap outputs' one after
 * another; the segment's skips and a batch's end offset count tokens of them.
 */
final class TokenPacker extends FullCutter {
  private final Packing packing;
  private int[][] rows;
  private int[][] segments;
  private int[] fill;
  private int[] pieces;
  private List<List<String>> keys;
  private String shard;

  TokenPacker(RankSegment seg, FullBatcher.Progress progress, SlotBatcher batcher) {
    super(seg, progress, batcher);
    this.packing = seg.packing().orElseThrow();
    newRows();
  }

  private void newRows() {
    int b = seg.batch();
    rows = new int[b][packing.length()];
    segments = new int[b][packing.length()];
    fill = new int[b];
    pieces = new int[b];
    keys = new ArrayList<>();
    for (int i = 0; i < b; i++) {
      keys.add(new ArrayList<>());
    }
  }

  /** The samples' tokens one after another, {@code skip} of them used before this segment. */
  @Override
  void take(long at, List<RawSample> samples, long skip, List<RankEvent> events) {
    List<int[]> tokens = new ArrayList<>(samples.size());
    long total = 0;
    for (RawSample s : samples) {
      int[] t = tokens(s, packing.field());
      if (t == null) {
        noTokens(s, packing.field(), "pack", events);
        return;
      }
      tokens.add(t);
      total += t.length;
    }
    long base = 0;
    for (int i = 0; i < samples.size(); i++) {
      int[] t = tokens.get(i);
      long from = Math.max(0, skip - base);
      if (from < t.length) {
        if (packing.dropLong() && t.length > packing.length()) {
          if (from == 0) {
            leftOut();
          }
        } else {
          if (from == 0) {
            took();
          }
          place(samples.get(i), t, (int) from, at, base, total, events);
        }
      }
      base += t.length;
    }
  }

  /** Tokens {@code t[from..]} of {@code s} (starting at token {@code base} of its slot's) into the rows, first fit. */
  private void place(RawSample s, int[] t, int from, long at, long base, long total, List<RankEvent> events) {
    int next = from;
    while (next < t.length) {
      int left = t.length - next;
      int row = firstWithRoom(left);
      if (row < 0) {
        row = firstWithRoom(1);
      }
      int n = Math.min(left, packing.length() - fill[row]);
      System.arraycopy(t, next, rows[row], fill[row], n);
      Arrays.fill(segments[row], fill[row], fill[row] + n, ++pieces[row]);
      fill[row] += n;
      keys.get(row).add(s.key());
      shard = shard == null ? s.shard() : shard;
      next += n;
      if (firstWithRoom(1) < 0) {
        long used = base + next;
        emitRows(used < total ? at : at + 1, used < total ? used : 0, events);
      }
    }
  }

  private int firstWithRoom(int n) {
    for (int i = 0; i < fill.length; i++) {
      if (packing.length() - fill[i] >= n) {
        return i;
      }
    }
    return -1;
  }

  /** The full rows out, as batch {@code k}. */
  private void emitRows(long end, long offset, List<RankEvent> events) {
    List<RawSample> out = new ArrayList<>(rows.length);
    String segmentsField = packing.field() + "_segments";
    for (int i = 0; i < rows.length; i++) {
      out.add(new RawSample(shard, String.join("+", keys.get(i)), List.of(), Optional.of(new Decoded(
          Optional.empty(), Optional.empty(), Map.of(), Map.of(packing.field(), rows[i], segmentsField, segments[i])))));
    }
    emit(out, end, offset, events);
    shard = null;
    newRows();
  }
}
