package dev.conveyor.orchestrator.job;

import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.workers.wire.WireMessage;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Materializer;

/**
 * Keeps a job's cursor and persists it: rank feeders (on any node) report each batch
 * delivered to their trainer; every {@code every} reports, and whenever asked, the cursor is
 * saved to the {@link CursorStore} ({@code latest.cursor} replaced atomically, the last
 * {@code keep} numbered ones kept). Without a store it only keeps the cursor. Saving is
 * synchronous in the actor: a save finishes before the next report is counted.
 */
public final class CheckpointActor {
  private CheckpointActor() {}

  /** What the checkpoint actor is told or asked. */
  public sealed interface Command extends WireMessage permits Delivered, SaveNow, Current {}

  /** Batch number {@code index} (from 0 in each epoch) of {@code epoch} reached the trainer of {@code rank}. */
  public record Delivered(int rank, int epoch, long index) implements Command {}

  /** Save now (at a trainer's checkpoint, at shutdown) and answer with what was saved. */
  public record SaveNow(ActorRef<Saved> replyTo) implements Command {}

  /** Answer with the cursor now, without saving. */
  public record Current(ActorRef<Saved> replyTo) implements Command {}

  /** A cursor token, and whether it is the one in the store. */
  public record Saved(String cursor, boolean persisted) implements WireMessage {}

  /**
   * A checkpoint actor for a job that starts at {@code start} (a fresh start or a resumed
   * cursor), saving to {@code store} if there is one.
   */
  public static Behavior<Command> starting(Optional<CursorStore> store, Cursor start, int every) {
    return Behaviors.setup(ctx -> tracking(store, new CursorTracker(start, false), every));
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

  private static Behavior<Command> tracking(Optional<CursorStore> store, CursorTracker tracker, int every) {
    long[] sinceSave = {0};
    int[] epoch = {tracker.cursor().epoch()};
    long[] step = {0};
    Runnable save = () -> {
      store.ifPresent(s -> s.save(tracker.cursor(), step[0]));
      sinceSave[0] = 0;
    };
    return Behaviors.receive(Command.class)
        .onMessage(Delivered.class, d -> {
          tracker.delivered(d.rank(), d.epoch(), d.index());
          Cursor c = tracker.cursor();
          if (c.epoch() != epoch[0]) {
            epoch[0] = c.epoch();
            step[0] = 0;
          }
          if (d.epoch() == c.epoch()) {
            step[0] = Math.max(step[0], d.index());
          }
          if (every > 0 && ++sinceSave[0] >= every) {
            save.run();
          }
          return Behaviors.same();
        })
        .onMessage(SaveNow.class, s -> {
          save.run();
          s.replyTo().tell(new Saved(tracker.cursor().encode(), store.isPresent()));
          return Behaviors.same();
        })
        .onMessage(Current.class, c -> {
          c.replyTo().tell(new Saved(tracker.cursor().encode(), store.isPresent() && sinceSave[0] == 0));
          return Behaviors.same();
        })
        .build();
  }
}
