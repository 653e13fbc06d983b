package dev.conveyor.streams.sample;

import dev.conveyor.streams.store.ShardReadException;
import dev.conveyor.streams.tar.TarFormatException;
import dev.conveyor.streams.tar.TarRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Groups the members of one shard into {@link RawSample}s by the WebDataset rule (see
 * {@link WebDatasetKeys}): consecutive members with the same key form one sample.
 *
 * <p>Nothing is dropped silently. A stray member, a key that reappears after other keys (which
 * WebDataset would merge or split without a word), a duplicate extension, and a shard whose
 * read fails all become {@link DeadLetter}s; a failure ends this shard's records with one dead
 * letter instead of failing the stream, so a job can decide whether to go on. (A shard that
 * ends short of its planned samples is the plan reader's to report.)
 */
public final class SampleGrouping extends GraphStage<FlowShape<TarRecord, ShardRecord>> {
  private final Inlet<TarRecord> in = Inlet.create("SampleGrouping.in");
  private final Outlet<ShardRecord> out = Outlet.create("SampleGrouping.out");
  private final FlowShape<TarRecord, ShardRecord> shape = FlowShape.of(in, out);
  private final String shard;

  private SampleGrouping(String shard) {
    this.shard = shard;
  }

  /** Groups the records of {@code shard}. */
  public static Flow<TarRecord, ShardRecord, NotUsed> flow(String shard) {
    return Flow.fromGraph(new SampleGrouping(shard));
  }

  @Override
  public FlowShape<TarRecord, ShardRecord> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private final Set<String> seenKeys = new HashSet<>();
      private String key;
      private boolean keyRejected;
      private final List<Member> members = new ArrayList<>();

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            List<ShardRecord> emitted = accept(grab(in));
            if (emitted.isEmpty()) {
              pull(in);
            } else {
              emitMultiple(out, emitted.iterator());
            }
          }

          @Override
          public void onUpstreamFinish() {
            List<ShardRecord> last = new ArrayList<>(1);
            flush(last);
            emitMultiple(out, last.iterator());
            complete(out);
          }

          @Override
          public void onUpstreamFailure(Throwable ex) {
            List<ShardRecord> last = new ArrayList<>(2);
            String broken = brokenKey(ex);
            boolean atBoundary = ex instanceof ShardReadException r && r.atSampleBoundary();
            if (atBoundary || broken != null && !broken.equals(key)) {
              flush(last); // the archive broke in the next sample: the one assembled is whole
            }
            // otherwise the sample being assembled may be missing members: reported, not delivered
            String lost = broken != null ? broken : key != null && !keyRejected ? key : DeadLetter.WHOLE_SHARD;
            last.add(new DeadLetter(shard, lost, ReadFailures.describe(ex)));
            emitMultiple(out, last.iterator());
            complete(out);
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (!hasBeenPulled(in) && !isClosed(in)) {
              pull(in);
            }
          }
        });
      }

      private List<ShardRecord> accept(TarRecord record) {
        List<ShardRecord> emitted = new ArrayList<>(2);
        if (record instanceof TarRecord.Skipped s) {
          emitted.add(new DeadLetter(shard, s.path(), s.reason()));
          return emitted;
        }
        TarRecord.File f = (TarRecord.File) record;
        StringBuilder whyNot = new StringBuilder();
        var split = WebDatasetKeys.split(f.path(), whyNot);
        if (split.isEmpty()) {
          emitted.add(new DeadLetter(shard, f.path(), whyNot.toString()));
          return emitted;
        }
        String k = split.get().key();
        String ext = split.get().ext();
        if (!k.equals(key)) {
          flush(emitted);
          key = k;
          keyRejected = !seenKeys.add(k);
          if (keyRejected) {
            emitted.add(new DeadLetter(shard, k, "key appears again after other keys (members not adjacent): later members skipped"));
          }
        }
        if (keyRejected) {
          return emitted;
        }
        for (Member m : members) {
          if (m.ext().equals(ext)) {
            emitted.add(new DeadLetter(shard, k, "duplicate member ." + ext + " in one sample: second copy skipped"));
            return emitted;
          }
        }
        members.add(new Member(ext, f.data()));
        return emitted;
      }

      /** The key of the member a tar broke inside, when the failure names one with a usable key. */
      private String brokenKey(Throwable ex) {
        if (ex instanceof TarFormatException t && t.member().isPresent()) {
          return WebDatasetKeys.split(t.member().get(), new StringBuilder()).map(WebDatasetKeys.Split::key).orElse(null);
        }
        return null;
      }

      private void flush(List<ShardRecord> emitted) {
        if (key != null && !keyRejected) {
          emitted.add(new RawSample(shard, key, members));
        }
        members.clear();
        key = null;
        keyRejected = false;
      }
    };
  }
}
