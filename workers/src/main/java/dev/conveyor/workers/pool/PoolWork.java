package dev.conveyor.workers.pool;

import dev.conveyor.streams.pipeline.ReadEvent;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;

/** The work an {@link ActorPool} hands out: a group the rank's stream waits on, and the parts of it its actors take. */
final class PoolWork {
  private PoolWork() {}

  /**
   * A group's part for one actor: {@code events} from the group's {@code offset}th,
   * {@code retrying} its first once more; {@code overran} whether an actor already held it past
   * the sample timeout.
   */
  record Job(Request request, int offset, List<ReadEvent> events, boolean retrying, boolean overran) {
    Job(Request request, int offset, List<ReadEvent> events, boolean retrying) {
      this(request, offset, events, retrying, false);
    }
  }

  /** A group the rank's stream is waiting on, filled in as actors finish parts of it. */
  static final class Request {
    final int epoch;
    final ReadEvent[] out;
    final CompletableFuture<List<ReadEvent>> answer;
    int missing;

    Request(ActorPool.Apply a) {
      this.epoch = a.epoch();
      this.out = new ReadEvent[a.group().size()];
      this.answer = a.answer();
      this.missing = out.length;
    }

    void fill(int from, List<ReadEvent> events) {
      for (int i = 0; i < events.size(); i++) {
        out[from + i] = events.get(i);
      }
      missing -= events.size();
      if (missing == 0) {
        answer.complete(List.of(out));
      }
    }
  }

  /** What an actor is given: a part of a group to run the stage on. */
  record Work(Job job) implements NoSerializationVerificationNeeded {}
}
