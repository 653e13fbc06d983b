package dev.conveyor.workers.reader;

import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.wire.WireMessage;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.StreamRefs;

/**
 * A worker node's reader of leased slices. For a {@link Lease} it reads the slice (shards,
 * tar, grouping, window shuffle and the per-sample stage, as one rank would locally) and
 * offers the events to the lease holder as a {@link SourceRef}: each event numbered by its
 * ordinal in the slice, from {@code fromOrdinal} on, then a {@link SliceEnd} with the count.
 * The same slice always yields the same events, so a slice leased again to another node after
 * a failure continues exactly where the first stopped. Back-pressure crosses the network: the
 * stream reads only as fast as the lease holder takes.
 */
public final class ShardReader {
  private ShardReader() {}

  /** What a shard reader is asked. */
  public sealed interface Command extends WireMessage permits Lease {}

  /**
   * Read {@code slice} of epoch {@code epoch} (whose first slot is rank position
   * {@code firstPosition}) and offer its events from {@code fromOrdinal} on. {@code lease} and
   * {@code fencing} come back in the offer, so that the holder can tell a stale offer (an
   * earlier attempt's) from the current one.
   */
  public record Lease(long lease, long fencing, int epoch, WindowSlice slice, long firstPosition, long fromOrdinal,
                      ActorRef<Offer> replyTo) implements Command {}

  /** The events of a lease, as a stream reference the holder subscribes to. */
  public record Offer(long lease, long fencing, SourceRef<SliceElement> events) implements WireMessage {}

  /** An element of a leased slice's stream. */
  public sealed interface SliceElement extends WireMessage permits SliceEvent, SliceEnd {}

  /** Event number {@code ordinal} of the slice. */
  public record SliceEvent(long ordinal, ReadEvent event) implements SliceElement {}

  /** The slice had {@code events} events: a stream that ends without this did not end well. */
  public record SliceEnd(long events) implements SliceElement {}

  /** A reader over {@code store} for the job planned by {@code plan}, running the stages of {@code settings}. */
  public static Behavior<Command> create(ShardStore store, DataPlan plan, RankPipeline.Settings settings) {
    return Behaviors.setup(ctx -> {
      Materializer mat = Materializer.createMaterializer(ctx);
      return Behaviors.receive(Command.class)
          .onMessage(Lease.class, l -> {
            SourceRef<SliceElement> ref = RankPipeline.slice(store, plan, l.epoch(), l.slice(), l.firstPosition(), settings)
                // number the events; at the end, say how many there were
                .<long[], SliceElement>statefulMap(() -> new long[1], (count, e) ->
                    org.apache.pekko.japi.Pair.create(count, new SliceEvent(count[0]++, e)),
                    count -> Optional.of(new SliceEnd(count[0])))
                .filter(e -> !(e instanceof SliceEvent ev) || ev.ordinal() >= l.fromOrdinal())
                .runWith(StreamRefs.sourceRef(), mat);
            l.replyTo().tell(new Offer(l.lease(), l.fencing(), ref));
            return Behaviors.same();
          })
          .build();
    });
  }
}
