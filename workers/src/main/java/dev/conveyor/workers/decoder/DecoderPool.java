package dev.conveyor.workers.decoder;

import dev.conveyor.config.DecodeSettings;
import dev.conveyor.streams.decode.DecodeException;
import dev.conveyor.streams.decode.SampleDecoding;
import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.RawSample;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A node's decoders: a pool of actors, each with its own FFmpeg decoder (and the author's
 * {@link SampleMap}, if the job has one), on a dispatcher of their own so that decoding never
 * holds up the node's other actors. Samples come in groups of consecutive ones (the job's
 * hand-off), so that the hand-overs are paid once per group. The pool hands each group to the
 * next idle decoder and queues the rest (work pulling): a decoder never waits while samples
 * wait at another, as round-robin routing let happen when samples of uneven cost queued behind
 * a slow one. Each sample is decoded with a random stream seeded by
 * (recipe seed, epoch, shard, key): the same bytes whichever decoder takes it.
 *
 * <p>Supervision: a sample that does not decode (bad media, too large) is reported as a dead
 * letter and the decoder goes on. A decoder or map that throws anything else is restarted —
 * its native state may be broken — after the sample is reported as a dead letter with the
 * reason, so the rest flow. A decoder restarted {@link #MAX_RESTARTS} times within a minute
 * stops: the pool shrinks, and a pool with no decoders left fails the samples sent to it.
 */
public final class DecoderPool {
  private DecoderPool() {}

  /** Restarts of one decoder within a minute before it is stopped. */
  static final int MAX_RESTARTS = 10;

  /** The dispatcher the decoders run on (workers' reference.conf). */
  public static final String DISPATCHER = "conveyor.workers.decoder-dispatcher";

  /** What the pool is told: samples to decode, or (from its own decoders) that one is idle. */
  public sealed interface Command extends NoSerializationVerificationNeeded permits Decode, Idle {}

  /**
   * Decode the samples of {@code group} (consecutive events of {@code epoch}); answer
   * {@code replyTo} with the group filled. Local only.
   */
  public record Decode(int epoch, List<ReadEvent> group, ActorRef<Filled> replyTo) implements Command {}

  /**
   * The answer to a {@link Decode}: {@code done}, the group's first events, each sample decoded
   * or a dead letter; and {@code rest}, the events after them, not decoded because the decoder
   * broke on the last of {@code done} and is being restarted — ask again for them.
   */
  public record Filled(List<ReadEvent> done, List<ReadEvent> rest) implements NoSerializationVerificationNeeded {}

  /** A decoder is ready for the next group: sent when it starts, restarts and finishes one. */
  record Idle(ActorRef<Decode> decoder) implements Command {}

  /** What the pool did: samples decoded, dead letters, decoder restarts. */
  public static final class Stats {
    private final AtomicLong decoded = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();

    public long decoded() {
      return decoded.get();
    }

    public long deadLetters() {
      return deadLetters.get();
    }

    public long restarts() {
      return restarts.get();
    }
  }

  /**
   * The pool's behavior: {@code size} decoders for a job with {@code settings} and recipe seed
   * {@code seed}, each running the author's stages {@code steps} makes (once per decoder, again on
   * a restart) around decoding.
   */
  public static Behavior<Command> create(int size, DecodeSettings settings, long seed, Supplier<AuthorSteps> steps,
                                         Stats stats) {
    return Behaviors.setup(ctx -> new Balancer(ctx, size, settings, seed, steps, stats));
  }

  /**
   * The pool itself: samples go to idle decoders in the order they came, the rest wait in
   * {@link #waiting}. A decoder that stops (restarted too often) leaves the pool; when none is
   * left, every sample waiting and every one sent after is answered as a dead letter.
   */
  private static final class Balancer extends AbstractBehavior<Command> {
    private final ArrayDeque<Decode> waiting = new ArrayDeque<>();
    private final ArrayDeque<ActorRef<Decode>> idle = new ArrayDeque<>();
    private final Stats stats;
    private int decoders;
    private String lastFailure;

    Balancer(ActorContext<Command> ctx, int size, DecodeSettings settings, long seed, Supplier<AuthorSteps> steps,
             Stats stats) {
      super(ctx);
      this.stats = stats;
      for (int i = 0; i < size; i++) {
        Behavior<Decode> decoder = Behaviors.supervise(decoder(ctx.getSelf(), settings, seed, steps, stats))
            .onFailure(DecoderCrashed.class, SupervisorStrategy.restart().withLimit(MAX_RESTARTS, Duration.ofMinutes(1)));
        ctx.watch(ctx.spawn(decoder, "decoder-" + i, DispatcherSelector.fromConfig(DISPATCHER)));
        decoders++;
      }
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Decode.class, this::onDecode)
          .onMessage(Idle.class, this::onIdle)
          .onSignal(Terminated.class, this::onDecoderStopped)
          .build();
    }

    private Behavior<Command> onDecode(Decode d) {
      ActorRef<Decode> free = idle.poll();
      if (free != null) {
        free.tell(d);
      } else if (decoders == 0) {
        noDecoderLeft(d);
      } else {
        waiting.add(d);
      }
      return this;
    }

    private Behavior<Command> onIdle(Idle i) {
      Decode next = waiting.poll();
      if (next != null) {
        i.decoder().tell(next);
      } else {
        idle.add(i.decoder());
      }
      return this;
    }

    private Behavior<Command> onDecoderStopped(Terminated t) {
      if (t instanceof ChildFailed f) {
        // what stopped it (a DecoderCrashed: the sample, and the stage's or decoder's failure), for the samples after it
        Throwable why = f.getCause().getCause() != null ? f.getCause().getCause() : f.getCause();
        lastFailure = f.getCause().getMessage() + ": " + why.getMessage();
      }
      decoders--;
      idle.remove(t.getRef());
      if (decoders == 0) {
        waiting.forEach(this::noDecoderLeft);
        waiting.clear();
      }
      return this;
    }

    private void noDecoderLeft(Decode d) {
      List<ReadEvent> out = new ArrayList<>(d.group().size());
      for (ReadEvent e : d.group()) {
        out.add(e instanceof ReadEvent.Slot slot && slot.record() instanceof RawSample raw
            ? deadLetter(slot, raw, "no decoder was left (each failed " + MAX_RESTARTS + " times within a minute"
                + (lastFailure == null ? "" : "; the last failure, " + lastFailure) + ")", stats)
            : e);
      }
      d.replyTo().tell(new Filled(out, List.of()));
    }
  }

  /** A sample's failure that restarts its decoder (after the sample was reported). */
  static final class DecoderCrashed extends RuntimeException {
    DecoderCrashed(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static Behavior<Decode> decoder(ActorRef<Command> pool, DecodeSettings settings, long seed,
                                          Supplier<AuthorSteps> steps, Stats stats) {
    return Behaviors.setup(ctx -> {
      pool.tell(new Idle(ctx.getSelf())); // on a restart too: setup runs again
      return new Decoder(ctx, pool, new SampleDecoding(settings, seed, steps.get()), stats);
    });
  }

  /** One decoder: its own FFmpeg state and stage instances, made again on a restart. */
  private static final class Decoder extends AbstractBehavior<Decode> {
    private final ActorRef<Command> pool;
    private final SampleDecoding decoding;
    private final Stats stats;

    Decoder(ActorContext<Decode> ctx, ActorRef<Command> pool, SampleDecoding decoding, Stats stats) {
      super(ctx);
      this.pool = pool;
      this.decoding = decoding;
      this.stats = stats;
    }

    @Override
    public Receive<Decode> createReceive() {
      return newReceiveBuilder()
          .onMessage(Decode.class, this::onDecode)
          .onSignal(PreRestart.class, this::onPreRestart)
          .build();
    }

    private Behavior<Decode> onDecode(Decode d) {
      List<ReadEvent> group = d.group();
      List<ReadEvent> out = new ArrayList<>(group.size());
      for (int i = 0; i < group.size(); i++) {
        ReadEvent e = group.get(i);
        if (!(e instanceof ReadEvent.Slot slot) || !(slot.record() instanceof RawSample raw)) {
          out.add(e);
          continue;
        }
        try {
          out.add(new ReadEvent.Slot(slot.position(), decoding.apply(d.epoch(), raw)));
          stats.decoded.incrementAndGet();
        } catch (DecodeException ex) {
          out.add(deadLetter(slot, raw, ex.getMessage(), stats)); // a poisoned sample: report it, go on
        } catch (SampleDecoding.MapFailed ex) {
          out.add(deadLetter(slot, raw, ex.getMessage() + "; its decoder was restarted", stats));
          throw crashed(d, out, i, new DecoderCrashed("mapping " + raw.key() + " of " + raw.shard(), ex));
        } catch (RuntimeException | LinkageError ex) {
          out.add(deadLetter(slot, raw, "the decoder failed (" + ex + "); it was restarted", stats));
          throw crashed(d, out, i, new DecoderCrashed("decoding " + raw.key() + " of " + raw.shard(), ex));
        }
      }
      d.replyTo().tell(new Filled(out, List.of()));
      return ready();
    }

    /** Answers with the group up to its {@code i}th event (reported), the rest to ask again for; the decoder then restarts. */
    private static DecoderCrashed crashed(Decode d, List<ReadEvent> done, int i, DecoderCrashed crash) {
      d.replyTo().tell(new Filled(done, List.copyOf(d.group().subList(i + 1, d.group().size()))));
      return crash;
    }

    /** Asks the pool for the next group (a decoder that throws asks again from its restarted setup). */
    private Behavior<Decode> ready() {
      pool.tell(new Idle(getContext().getSelf()));
      return this;
    }

    private Behavior<Decode> onPreRestart(PreRestart signal) {
      stats.restarts.incrementAndGet();
      return this;
    }
  }

  private static ReadEvent deadLetter(ReadEvent.Slot slot, RawSample raw, String reason, Stats stats) {
    stats.deadLetters.incrementAndGet();
    return new ReadEvent.Slot(slot.position(), new DeadLetter(raw.shard(), raw.key(), reason));
  }

  /**
   * The per-sample stage ({@code RankPipeline.Settings}) that asks {@code pool}: each group
   * whole, and again for the rest of a group whose decoder broke. A group the pool does not
   * answer within {@code timeout} per sample has its samples made dead letters.
   */
  public static SampleStage stage(ActorRef<Decode> pool, Duration timeout, Scheduler scheduler) {
    return (epoch, group) -> ask(pool, epoch, group, timeout, scheduler);
  }

  private static CompletionStage<List<ReadEvent>> ask(ActorRef<Decode> pool, int epoch, List<ReadEvent> group,
                                                      Duration timeout, Scheduler scheduler) {
    if (group.stream().noneMatch(e -> e instanceof ReadEvent.Slot slot && slot.record() instanceof RawSample)) {
      return CompletableFuture.completedFuture(group);
    }
    // the ask's future runs a dependent stage on the common pool unless told otherwise, which
    // on two cores means a new thread per group: the continuation runs where the answer arrives
    return AskPattern.<Decode, Filled>ask(pool, reply -> new Decode(epoch, group, reply),
            timeout.multipliedBy(group.size()), scheduler)
        .handleAsync((filled, failure) -> failure != null ? CompletableFuture.completedFuture(abandoned(group, timeout))
            : filled.rest().isEmpty() ? CompletableFuture.completedFuture(filled.done())
            : ask(pool, epoch, filled.rest(), timeout, scheduler).thenApply(rest -> concat(filled.done(), rest)),
            Runnable::run)
        .thenCompose(f -> f);
  }

  /** {@code group} with each sample a dead letter: the pool did not answer in time. */
  private static List<ReadEvent> abandoned(List<ReadEvent> group, Duration timeout) {
    List<ReadEvent> out = new ArrayList<>(group.size());
    for (ReadEvent e : group) {
      out.add(e instanceof ReadEvent.Slot slot && slot.record() instanceof RawSample raw
          ? new ReadEvent.Slot(slot.position(), new DeadLetter(raw.shard(), raw.key(), "decoding took longer than"
              + " limits.timeout (" + timeout.toMillis() + " ms) or no decoder was left: abandoned"))
          : e);
    }
    return out;
  }

  private static List<ReadEvent> concat(List<ReadEvent> a, List<ReadEvent> b) {
    List<ReadEvent> all = new ArrayList<>(a.size() + b.size());
    all.addAll(a);
    all.addAll(b);
    return all;
  }
}
