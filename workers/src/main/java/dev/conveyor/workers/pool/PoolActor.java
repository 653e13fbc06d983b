package dev.conveyor.workers.pool;

import dev.conveyor.streams.decode.AuthorSteps;
import dev.conveyor.streams.decode.SampleDecoding;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.pipeline.SampleStage;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Expanded;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One actor of a pool: makes its instance of the author's stage once, when it starts (and again
 * when it restarts after the stage threw), then runs each part of a group it is given through it,
 * sample by sample, and reports to the pool.
 */
final class PoolActor {
  private PoolActor() {}

  /** The stage threw: the actor restarts with a new instance, after reporting what it finished. */
  static final class StageThrew extends RuntimeException {
    StageThrew(String message) {
      super(message);
    }
  }

  static Behavior<PoolWork.Work> create(ActorRef<ActorPool.Command> pool, String stage, long seed,
                                         Supplier<AuthorSteps> make) {
    Behavior<PoolWork.Work> body = Behaviors.setup(ctx -> {
      AuthorSteps steps;
      try {
        steps = make.get();
      } catch (RuntimeException | LinkageError e) {
        pool.tell(new ActorPool.ConstructorFailed(ctx.getSelf(), e.toString()));
        return Behaviors.stopped();
      }
      pool.tell(new ActorPool.Started(ctx.getSelf()));
      return Behaviors.receiveMessage(w -> run(pool, ctx.getSelf(), stage, seed, steps, w.job()));
    });
    return Behaviors.supervise(body).onFailure(StageThrew.class, SupervisorStrategy.restart().withLoggingEnabled(false));
  }

  private static Behavior<PoolWork.Work> run(ActorRef<ActorPool.Command> pool, ActorRef<PoolWork.Work> self,
                                              String stage, long seed, AuthorSteps steps, PoolWork.Job job) {
    List<ReadEvent> events = job.events();
    List<ReadEvent> out = new ArrayList<>(events.size());
    int epoch = job.request().epoch;
    for (int i = 0; i < events.size(); i++) {
      ReadEvent e = events.get(i);
      if (!(e instanceof ReadEvent.Slot slot) || !holdsSample(e)) {
        out.add(e);
        continue;
      }
      try {
        out.add(new ReadEvent.Slot(slot.position(), steps.apply(seed, epoch, slot.record())));
      } catch (SampleDecoding.MapFailed | RuntimeException | LinkageError ex) {
        String error = ex instanceof SampleDecoding.MapFailed ? ex.getMessage() : "the stage " + stage + " failed (" + ex
            + ")";
        pool.tell(new ActorPool.Failed(self, job, out, i, error));
        throw new StageThrew(error);
      }
    }
    pool.tell(new ActorPool.Done(self, job, out));
    return Behaviors.same();
  }

  /** How a stage hands a group of samples on: {@code answer} is completed with what became of it. */
  @FunctionalInterface
  interface Handing {
    void hand(int epoch, List<ReadEvent> group, CompletableFuture<List<ReadEvent>> answer);
  }

  /** The per-sample stage that hands each group holding samples on by {@code handing} and waits for its answer. */
  static SampleStage handing(Handing handing) {
    return (epoch, group) -> {
      if (group.stream().noneMatch(PoolActor::holdsSample)) {
        return CompletableFuture.completedFuture(group);
      }
      CompletableFuture<List<ReadEvent>> answer = new CompletableFuture<>();
      handing.hand(epoch, group, answer);
      return answer;
    };
  }

  /** Whether {@code e} holds a sample (or a flatMap's samples) for the stage. */
  static boolean holdsSample(ReadEvent e) {
    return e instanceof ReadEvent.Slot slot && (slot.record() instanceof RawSample || slot.record() instanceof Expanded);
  }

  /** The samples among {@code events}, each output of an expanded one counted. */
  static long samples(List<ReadEvent> events) {
    long n = 0;
    for (ReadEvent e : events) {
      if (e instanceof ReadEvent.Slot slot) {
        n += slot.record() instanceof RawSample ? 1 : slot.record() instanceof Expanded x ? x.outputs().size() : 0;
      }
    }
    return n;
  }

  /** {@code events} with each sample a dead letter saying {@code why}. */
  static List<ReadEvent> deadLetters(List<ReadEvent> events, String why) {
    List<ReadEvent> out = new ArrayList<>(events.size());
    for (ReadEvent e : events) {
      if (holdsSample(e)) {
        ReadEvent.Slot slot = (ReadEvent.Slot) e;
        var r = slot.record();
        String key = r instanceof RawSample s ? s.key() : ((Expanded) r).key();
        out.add(new ReadEvent.Slot(slot.position(), new DeadLetter(r.shard(), key, why)));
      } else {
        out.add(e);
      }
    }
    return out;
  }
}
