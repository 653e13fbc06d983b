package dev.conveyor.orchestrator.node;

import dev.conveyor.config.SinkSettings;
import dev.conveyor.orchestrator.checkpoint.CursorTracker;
import dev.conveyor.orchestrator.coordinator.JobSpec;
import dev.conveyor.orchestrator.delivery.RankReport.BatchDone;
import dev.conveyor.orchestrator.delivery.RankReport.RankDone;
import dev.conveyor.orchestrator.delivery.RankReport.RankFailed;
import dev.conveyor.orchestrator.delivery.RankReport.SkipDone;
import dev.conveyor.streams.batch.BatchDigest;
import dev.conveyor.streams.batch.RankEvent;
import dev.conveyor.streams.batch.RawBatch;
import dev.conveyor.streams.cursor.Cursor;
import dev.conveyor.streams.dsl.Pipeline;
import dev.conveyor.streams.dsl.PipelineDefinition;
import dev.conveyor.streams.pipeline.RankPipeline;
import dev.conveyor.streams.plan.DataPlan;
import dev.conveyor.streams.plan.Mix;
import dev.conveyor.streams.plan.RankSegment;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.store.ShardStore;
import dev.conveyor.workers.feeder.LockstepTrainers;
import dev.conveyor.workers.feeder.RankFeeder;
import dev.conveyor.workers.feeder.RingTrainer;
import dev.conveyor.workers.pool.ActorPool;
import dev.conveyor.workers.reader.LeasedSlices;
import dev.conveyor.workers.reader.ShardReader;
import dev.conveyor.workers.sink.ShardSink;
import dev.conveyor.workers.sink.SinkNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One rank hosted on a trainer host: its slices read through the workers' readers
 * ({@link LeasedSlices}), batched, into a {@link RankFeeder}'s prefetch ring, and a trainer
 * taking from it: a trainer process attached to this node ({@link TrainerRings}), through a
 * shared-memory ring, or else a thread standing in for one, in lockstep with the job's other
 * stand-ins on this node. A batch is reported when the trainer takes it: to the client
 * (a {@link BatchDone}), to the node's agent (which keeps the rank's place and tells the
 * coordinator's cursor), and to the node's metrics.
 */
final class RankHost {
  private RankHost() {}

  /**
   * Starts {@code rank} of {@code r}'s job; its trainer among {@code here}'s, its slices leased to
   * {@code here}'s readers, its full batches (if the recipe's are) agreed at {@code here}'s gate,
   * its ring of {@code prefetch} batches.
   */
  static RankFeeder run(NodeAgent.RunRanks r, DataPlan plan, int rank, ActorSystem<?> system,
                        ActorRef<NodeAgent.Command> agent, Materializer mat, LeasedSlices.Settings leases,
                        RanksHere here, int prefetch) {
    JobSpec job = r.job();
    LockstepTrainers trainers = here.trainers;
    AtomicLong leftOver = new AtomicLong();
    LeasedSlices.Stats stats = new LeasedSlices.Stats();
    // the rank reads reader-parallelism slices at once, as a rank reads windows in one process
    LeasedSlices.Settings inFlight = new LeasedSlices.Settings(leases.offerTimeout(), leases.maxAttempts(),
        leases.retryDelay(), job.readerParallelism()).grouped(job.stages().handOff().samples());
    Cursor start = Cursor.decode(r.start());
    java.util.concurrent.atomic.AtomicReference<NodeAgent.RankDelivered> committed =
        new java.util.concurrent.atomic.AtomicReference<>();
    NodeState.Rank meter = NodeState.get(system).rank(job.id(), rank, stats);
    job.recipe().mix().ifPresent(m -> meter.sourceNames(m.sources().stream().map(Mix.Source::name).toList()));
    Source<RankEvent, NotUsed> events = Source.range(start.epoch(), job.epochs() - 1).flatMapConcat(e -> {
      RankSegment seg = plan.rank(e == start.epoch() ? start : start.atEpoch(e, job.world()), job.world(), rank);
      return LeasedSlices.events(seg, here.readers, system, inFlight, stats)
          .map(ev -> {
            meter.received(ShardReader.messageBytes(ev));
            return ev;
          })
          .via(RankPipeline.batches(seg, here.gate, leftOver::addAndGet));
    }).via(RankPipeline.limitBatches(job.maxSteps()));
    events = batchStages(job, rank, system, events);
    RankFeeder feeder = RankFeeder.preparing(events, prefetch, mat, b -> {
      // prepared when the batch is taken; the report keeps its figures, not its bytes (a ring's
      // writer holds reports until the trainer is handed the batches)
      BatchDigest d = job.digests() ? BatchDigest.of(b) : new BatchDigest("", ""); // hashes every byte: only when recorded
      long bytes = 0;
      List<String> keys = new ArrayList<>();
      for (RawSample sample : b.samples()) {
        bytes += sample.deliveredBytes();
        if (job.keys()) {
          keys.add(sample.key());
        }
      }
      int epoch = b.epoch();
      long index = b.index();
      int samples = b.samples().size();
      long delivered = bytes;
      long end = b.end();
      long offset = b.endOffset();
      dev.conveyor.streams.batch.SourceCounts sources = b.sources(); // the report must not hold the batch
      BatchDone done = new BatchDone(epoch, b.step(), b.rank(), index, d.bytesSha256(), d.keysSha256(), samples, bytes,
          keys, b.filtered(), meter.stallSeconds(), b.sources());
      NodeAgent.RankDelivered at = new NodeAgent.RankDelivered(job.id(), rank, epoch, index, end, offset);
      return () -> {
        r.replyTo().tell(done);
        if (job.writes()) {
          committed.set(at); // a sink's cursor moves a whole shard at a time (ShardSink)
        } else {
          agent.tell(at);
        }
        meter.delivered(epoch, index, samples, delivered, sources);
      };
    }, s -> r.replyTo().tell(new SkipDone(s.epoch(), s.step(), s.rank(), s.deadLetter())));
    String name = "trainer-" + job.id() + "-rank-" + rank;
    Consumer<Optional<String>> ended = failed -> {
      meter.ended(failed.map(f -> "failed: " + f).orElse("done"));
      agent.tell(new NodeAgent.RankEnded(job.id(), rank, failed));
      r.replyTo().tell(failed.isPresent() ? new RankFailed(rank, failed.get())
          : new RankDone(rank, stats.leases(), stats.reassigned(), stats.handedBack(), meter.stallSeconds(),
              meter.stallRatio(), leftOver.get()));
    };
    Optional<TrainerRings.Attachment> attached = TrainerRings.get(system).claim(rank);
    if (attached.isPresent()) {
      // the trainer is a process reading a ring: each slot carries the cursor after its batch,
      // counted for every rank of the lockstep job, as the trainer's checkpoint will save it
      CursorTracker cursor = new CursorTracker(start, true);
      TrainerRings.Attachment a = attached.get();
      RingTrainer writer = RingTrainer.start(a.settings(), name, rank, feeder, b -> {
        cursor.delivered(b);
        return cursor.cursor().encode();
      }, a.announce(), a.alive(), ended, trainers.hold(),
          job.recipe().mix().map(m -> m.sources().stream().map(Mix.Source::name).toList()).orElse(List.of()));
      meter.ring(() -> feeder.ready() + writer.ready());
      meter.stallFrom(writer::stallSeconds, writer::stall);
    } else if (job.writes()) {
      meter.ring(feeder::ready);
      meter.stallFrom(feeder::stallSeconds, feeder::stall);
      SinkSettings sink = job.stages().sink().get();
      ShardStore store = here.stores.apply(java.net.URI.create(sink.to()));
      ShardSink.start("sink-" + job.id() + "-rank-" + rank, rank, feeder, new ShardSink.Target(sink,
          SinkNames.recipeId(job.recipe().fingerprint(), job.world(), sink), store, mat,
          java.nio.file.Path.of(System.getProperty("java.io.tmpdir")),
          () -> java.util.Optional.ofNullable(committed.getAndSet(null)).ifPresent(agent::tell)),
          NodeAgent.TRAINER_WAIT, failed -> {
            store.close();
            ended.accept(failed);
          });
    } else {
      meter.ring(feeder::ready);
      meter.stallFrom(feeder::stallSeconds, feeder::stall);
      trainers.start(name, rank, feeder, () -> {}, ended);
    }
    return feeder;
  }

  /**
   * {@code events} with each batch through the job's batch-level stages ({@code mapBatches}), if
   * its pipeline has any: one batch at a time (the stages' instances are this rank's own), on the
   * actor pools' threads, in order.
   */
  private static Source<RankEvent, NotUsed> batchStages(JobSpec job, int rank, ActorSystem<?> system,
                                                        Source<RankEvent, NotUsed> events) {
    Optional<Pipeline> pipeline = job.stages().pipeline().map(PipelineDefinition::load)
        .filter(Pipeline::hasBatchStages);
    if (pipeline.isEmpty()) {
      return events;
    }
    Executor threads = system.dispatchers().lookup(DispatcherSelector.fromConfig(ActorPool.DISPATCHER));
    long seed = job.recipe().seed();
    return events.mapAsync(1, e -> e instanceof RawBatch b
        ? CompletableFuture.supplyAsync(() -> (RankEvent) pipeline.get().applyBatchStages(seed, b), threads)
        : CompletableFuture.completedFuture(e));
  }
}
