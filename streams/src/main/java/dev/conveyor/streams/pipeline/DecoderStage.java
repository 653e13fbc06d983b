package dev.conveyor.streams.pipeline;

import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.decode.DecodeException;
import dev.conveyor.streams.decode.SampleDecoding;
import dev.conveyor.streams.decode.SampleMap;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decoding as a plain stream stage, for a graph run without the job runtime (a pipeline
 * author's own, a test's reference): each slot's sample is decoded on one of {@code threads}
 * threads by {@link SampleDecoding}, the body every decoder runs (the job runtime runs it in
 * supervised decoder actors instead). A sample that fails to decode, or takes longer than
 * {@code limits.timeout}, becomes a dead letter in its slot. (A timed-out native decode cannot
 * be interrupted: its thread finishes it and the result is dropped.)
 */
public final class DecoderStage implements AutoCloseable {
  private final SampleDecoding decoding;
  private final long timeoutMillis;
  private final ExecutorService pool;

  public DecoderStage(DecodeSettings settings, long recipeSeed, int threads) {
    this(settings, recipeSeed, threads, Optional.empty());
  }

  /** The same, running the author's {@code map} on each decoded sample (a failure makes the sample a dead letter). */
  public DecoderStage(DecodeSettings settings, long recipeSeed, int threads, Optional<SampleMap> map) {
    this.decoding = new SampleDecoding(settings, recipeSeed, map);
    this.timeoutMillis = settings.limits().timeoutMillis();
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "conveyor-decoder-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * The per-sample stage for {@link RankPipeline.Settings}: each sample of the group decoded on
   * its own (the group's samples in parallel), the answers in the group's order.
   */
  public CompletionStage<List<ReadEvent>> apply(int epoch, List<ReadEvent> group) {
    List<CompletableFuture<ReadEvent>> each = new ArrayList<>(group.size());
    for (ReadEvent e : group) {
      each.add(apply(epoch, e));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(done -> {
      List<ReadEvent> out = new ArrayList<>(each.size());
      each.forEach(f -> out.add(f.join()));
      return out;
    });
  }

  private CompletableFuture<ReadEvent> apply(int epoch, ReadEvent e) {
    if (!(e instanceof ReadEvent.Slot slot) || !(slot.record() instanceof RawSample raw)) {
      return CompletableFuture.completedFuture(e);
    }
    return CompletableFuture.supplyAsync(() -> decode(epoch, slot, raw), pool)
        .completeOnTimeout(new ReadEvent.Slot(slot.position(), new DeadLetter(raw.shard(), raw.key(),
            "decoding took longer than limits.timeout (" + timeoutMillis + " ms): abandoned")), timeoutMillis, TimeUnit.MILLISECONDS);
  }

  private ReadEvent decode(int epoch, ReadEvent.Slot slot, RawSample raw) {
    try {
      return new ReadEvent.Slot(slot.position(), decoding.apply(epoch, raw));
    } catch (DecodeException | SampleDecoding.MapFailed ex) {
      return new ReadEvent.Slot(slot.position(), new DeadLetter(raw.shard(), raw.key(), ex.getMessage()));
    } catch (RuntimeException | LinkageError ex) {
      return new ReadEvent.Slot(slot.position(), new DeadLetter(raw.shard(), raw.key(), "decoder failed: " + ex));
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
