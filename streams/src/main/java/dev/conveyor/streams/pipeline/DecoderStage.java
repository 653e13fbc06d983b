package dev.conveyor.streams.pipeline;

import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.decode.DecodeException;
import dev.conveyor.streams.decode.SampleDecoder;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import java.util.Optional;
import java.util.SplittableRandom;
import dev.conveyor.streams.decode.SampleMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The decoder pool: decodes each slot's sample on one of {@code threads} threads, seeded by
 * (recipe seed, epoch, shard, key), so a sample decodes to the same bytes whichever thread
 * takes it and whenever. A sample that fails to decode, or takes longer than
 * {@code limits.timeout}, becomes a dead letter in its slot; the run goes on. (A timed-out
 * native decode cannot be interrupted: its thread finishes it and the result is dropped.)
 */
public final class DecoderStage implements AutoCloseable {
  private final SampleDecoder decoder;
  private final long seed;
  private final long timeoutMillis;
  private final ExecutorService pool;
  private final Optional<SampleMap> map;

  public DecoderStage(DecodeSettings settings, long recipeSeed, int threads) {
    this(settings, recipeSeed, threads, Optional.empty());
  }

  /** The same, running the author's {@code map} on each decoded sample (a failure makes the sample a dead letter). */
  public DecoderStage(DecodeSettings settings, long recipeSeed, int threads, Optional<SampleMap> map) {
    this.map = map;
    this.decoder = new SampleDecoder(settings);
    this.seed = recipeSeed;
    this.timeoutMillis = settings.limits().timeoutMillis();
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "conveyor-decoder-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** The per-sample stage function for {@link RankPipeline.Settings}. */
  public CompletionStage<ReadEvent> apply(int epoch, ReadEvent e) {
    if (!(e instanceof ReadEvent.Slot slot) || !(slot.record() instanceof RawSample raw)) {
      return CompletableFuture.completedFuture(e);
    }
    SplittableRandom rnd = SampleDecoder.random(seed, epoch, raw);
    return CompletableFuture.supplyAsync(() -> decode(epoch, slot, raw, rnd), pool)
        .completeOnTimeout(new ReadEvent.Slot(slot.position(), new DeadLetter(raw.shard(), raw.key(),
            "decoding took longer than limits.timeout (" + timeoutMillis + " ms): abandoned")), timeoutMillis, TimeUnit.MILLISECONDS);
  }

  private ReadEvent decode(int epoch, ReadEvent.Slot slot, RawSample raw, SplittableRandom rnd) {
    try {
      RawSample out = decoder.decode(raw, rnd);
      if (map.isPresent()) {
        try {
          out = map.get().apply(out, SampleMap.random(seed, epoch, raw.shard(), raw.key()));
        } catch (Exception | LinkageError ex) {
          return new ReadEvent.Slot(slot.position(), new DeadLetter(raw.shard(), raw.key(), "the map stage "
              + map.get().getClass().getName() + " failed (" + ex + ")"));
        }
      }
      return new ReadEvent.Slot(slot.position(), out);
    } catch (DecodeException ex) {
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
