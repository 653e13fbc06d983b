package dev.conveyor.orchestrator.job;

import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.workers.wire.WireMessage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Keeps a job's cursor and persists it: rank feeders (on any node) report each batch
 * delivered to their trainer; every {@code every} reports, and whenever asked, the cursor is
 * saved to the {@link CursorStore} ({@code latest.cursor} replaced atomically, the last
 * {@code keep} numbered ones kept). It starts from the newest valid cursor in the store — the
 * one a restarted coordinator must go on from — or from the job's start when there is none.
 * Saving is synchronous in the actor: a save finishes before the next report is counted.
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
   * A checkpoint actor over {@code store}, resuming from its newest valid cursor if that
   * belongs to this job ({@code start}'s fingerprint and world size), else from {@code start}.
   * {@code oneRank}: this process serves one rank of a lockstep job (every rank advances with it).
   */
  static Behavior<Command> create(CursorStore store, Cursor start, int every, boolean oneRank,
                                  org.apache.pekko.stream.Materializer mat) {
    return Behaviors.setup(ctx -> {
      Cursor from = store.adoptExisting(mat)
          .filter(c -> c.fingerprint().equals(start.fingerprint()) && c.world() == start.world())
          .orElse(start);
      CursorTracker tracker = new CursorTracker(from, oneRank);
      long[] sinceSave = {0};
      long[] step = {0};
      return Behaviors.receive(Command.class)
          .onMessage(Delivered.class, d -> {
            if (d.epoch() > tracker.cursor().epoch()) {
              step[0] = 0;
            }
            tracker.delivered(d.rank(), d.epoch(), d.index());
            step[0] = Math.max(step[0], d.index());
            if (every > 0 && ++sinceSave[0] >= every) {
              store.save(tracker.cursor(), step[0]);
              sinceSave[0] = 0;
            }
            return Behaviors.same();
          })
          .onMessage(SaveNow.class, s -> {
            store.save(tracker.cursor(), step[0]);
            sinceSave[0] = 0;
            s.replyTo().tell(new Saved(tracker.cursor().encode(), true));
            return Behaviors.same();
          })
          .onMessage(Current.class, c -> {
            c.replyTo().tell(new Saved(tracker.cursor().encode(), sinceSave[0] == 0));
            return Behaviors.same();
          })
          .build();
    });
  }
}
