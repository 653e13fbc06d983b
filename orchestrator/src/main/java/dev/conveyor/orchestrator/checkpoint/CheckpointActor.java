package dev.conveyor.orchestrator.checkpoint;

import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.workers.wire.WireMessage;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.stream.Materializer;

/**
 * Keeps a job's cursor and persists it: rank feeders (on any node) report each batch
 * delivered to their trainer; every {@code every} steps, and whenever asked, the cursor is
 * saved to the {@link CursorStore} ({@code latest.cursor} replaced atomically, the last
 * {@code keep} numbered ones kept). Without a store it only keeps the cursor. Saving is
 * synchronous in the actor: a save finishes before the next report is counted.
 */
public final class CheckpointActor {
  private CheckpointActor() {}

  /** What the checkpoint actor is told or asked. */
  public sealed interface Command extends WireMessage permits Delivered, SaveNow, Current {}

  /**
   * Batch number {@code index} (from 0 in each epoch) of {@code epoch} reached the trainer of
   * {@code rank}; with full batches {@code end} is the rank's plan position after it (-1 otherwise)
   * and {@code offset} the outputs of the sample there it delivered too (a flatMap's).
   */
  public record Delivered(int rank, int epoch, long index, long end, long offset) implements Command {
    /** A batch of fixed plan positions. */
    public Delivered(int rank, int epoch, long index) {
      this(rank, epoch, index, -1, 0);
    }
  }

  /** Save now (at a trainer's checkpoint, at shutdown) and answer with what was saved. */
  public record SaveNow(ActorRef<Saved> replyTo) implements Command {}

  /** Answer with the cursor now, without saving. */
  public record Current(ActorRef<Saved> replyTo) implements Command {}

  /** A cursor token, and whether it is the one in the store. */
  public record Saved(String cursor, boolean persisted) implements WireMessage {}

  /**
   * A checkpoint actor for a job that starts at {@code start} (a fresh start or a resumed
   * cursor), saving to {@code store} if there is one. With {@code oneRank} the run serves one
   * rank of a lockstep job, and its count stands for every rank's.
   */
  public static Behavior<Command> starting(Optional<CursorStore> store, Cursor start, int every, boolean oneRank) {
    return Behaviors.setup(ctx -> new Tracking(ctx, store, new CursorTracker(start, oneRank), every));
  }

  /**
   * The newest valid cursor in {@code store} if it belongs to the job that starts at
   * {@code start} (same fingerprint and world size): where a coordinator that takes over a
   * running job goes on from.
   */
  public static Optional<Cursor> recover(Optional<CursorStore> store, Cursor start, Materializer mat) {
    return store.flatMap(s -> s.adoptExisting(mat))
        .filter(c -> c.fingerprint().equals(start.fingerprint()) && c.world() == start.world());
  }

  /**
   * The cursor and when it was saved: every {@code every} steps of the cursor — when the rank
   * furthest behind in the cursor's epoch has delivered a multiple of {@code every} batches, so
   * that ranks in lockstep are saved at a step boundary, as a trainer's checkpoint would be.
   */
  private static final class Tracking extends AbstractBehavior<Command> {
    private final Optional<CursorStore> store;
    private final CursorTracker tracker;
    private final int every;
    private int epoch;
    private long savedAt; // the slowest rank's count in the cursor's epoch when last saved
    private boolean unsaved;

    Tracking(ActorContext<Command> ctx, Optional<CursorStore> store, CursorTracker tracker, int every) {
      super(ctx);
      this.store = store;
      this.tracker = tracker;
      this.every = every;
      this.epoch = tracker.cursor().epoch();
      this.savedAt = slowest(tracker.cursor());
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Delivered.class, this::onDelivered)
          .onMessage(SaveNow.class, this::onSaveNow)
          .onMessage(Current.class, this::onCurrent)
          .build();
    }

    private Behavior<Command> onDelivered(Delivered d) {
      tracker.delivered(d.rank(), d.epoch(), d.index(), d.end(), d.offset());
      Cursor c = tracker.cursor();
      unsaved = true;
      if (c.epoch() != epoch) {
        epoch = c.epoch();
        savedAt = 0;
      }
      long slowest = slowest(c);
      if (every > 0 && slowest > savedAt && slowest % every == 0) {
        save(c, slowest - 1);
        savedAt = slowest;
      }
      return this;
    }

    private Behavior<Command> onSaveNow(SaveNow s) {
      Cursor c = tracker.cursor();
      save(c, Math.max(0, fastest(c) - 1));
      s.replyTo().tell(new Saved(c.encode(), store.isPresent()));
      return this;
    }

    private Behavior<Command> onCurrent(Current c) {
      c.replyTo().tell(new Saved(tracker.cursor().encode(), store.isPresent() && !unsaved));
      return this;
    }

    /** Saves {@code c} as of {@code step} (the last step every saved rank delivered, for the file's name). */
    private void save(Cursor c, long step) {
      store.ifPresent(s -> s.save(c, step));
      unsaved = false;
    }

    private static long slowest(Cursor c) {
      return java.util.Arrays.stream(c.current().batches()).min().orElse(0);
    }

    private static long fastest(Cursor c) {
      return java.util.Arrays.stream(c.current().batches()).max().orElse(0);
    }
  }
}
