package dev.conveyor.streams.store;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * The bytes {@code [offset, offset + length)} of one S3 object as a back-pressured stream of
 * parts, fetched by concurrent ranged GETs ({@link RangeRead}) and emitted in order.
 *
 * <p>Memory: each stream always may have one part fetched or in flight; further parts (up to
 * {@code parts-in-flight}) are started only when the store's shared byte budget has room, and
 * give it back when emitted. So a reader whose consumer is not pulling holds at most
 * {@code parts-in-flight} parts, and all readers together hold at most one part each plus the
 * budget — and no reader can be starved by the budget, since its first part needs none.
 */
final class RangedSource extends GraphStage<SourceShape<ByteString>> {
  private final S3Reads reads;
  private final URI shard;
  private final long offset;
  private final long length;
  private final Outlet<ByteString> out = Outlet.create("RangedSource.out");

  RangedSource(S3Reads reads, URI shard, long offset, long length) {
    this.reads = reads;
    this.shard = shard;
    this.offset = offset;
    this.length = length;
  }

  @Override
  public SourceShape<ByteString> shape() {
    return SourceShape.of(out);
  }

  @Override
  public GraphStageLogic createLogic(Attributes attrs) {
    return new Logic();
  }

  private final class Logic extends GraphStageLogic {
    private final long partSize = reads.settings().partSizeBytes();
    private final int maxParts = reads.settings().reads().partsInFlight();
    private final Map<Integer, RangeRead> inFlight = new HashMap<>();
    private final TreeMap<Integer, ByteString> ready = new TreeMap<>();
    private final Map<Integer, Long> budgeted = new HashMap<>();
    private long end = -1; // exclusive end of what this stream delivers, once the first part told the object's size
    private String etag;
    private long nextStart;
    private int nextIndex;
    private int emitIndex;
    private AsyncCallback<Object[]> partDone;

    Logic() {
      super(shape());
      setHandler(out, new AbstractOutHandler() {
        @Override
        public void onPull() {
          emit();
        }
      });
    }

    @Override
    public void preStart() {
      partDone = createAsyncCallback(this::onPart);
      nextStart = offset;
      startPart(offset + Math.min(partSize, length) - 1, false); // the first part also learns size and ETag
    }

    private void startPart(long lastByte, boolean fromBudget) {
      int index = nextIndex++;
      long from = nextStart;
      nextStart = lastByte + 1;
      if (fromBudget) {
        budgeted.put(index, lastByte + 1 - from);
      }
      RangeRead r = RangeRead.start(reads, shard, from, lastByte, etag);
      inFlight.put(index, r);
      r.result().whenComplete((res, e) -> partDone.invoke(new Object[] {index, res, e}));
    }

    private void onPart(Object[] msg) {
      int index = (Integer) msg[0];
      if (inFlight.remove(index) == null) {
        return;
      }
      if (msg[2] != null) {
        Throwable e = (Throwable) msg[2];
        Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        failStage(t instanceof ShardReadException ? t : S3ShardStore.failure(shard, t));
        return;
      }
      RangeRead.Result res = (RangeRead.Result) msg[1];
      if (end < 0) {
        long size = res.objectSize() >= 0 ? res.objectSize() : offset + res.bytes().size();
        end = Math.max(offset, length >= size - offset ? size : offset + length);
        etag = res.etag();
        nextStart = Math.min(nextStart, end);
      }
      ready.put(index, res.bytes());
      emit();
      startMore();
    }

    private void startMore() {
      while (end >= 0 && nextStart < end && inFlight.size() + ready.size() < maxParts) {
        long last = Math.min(nextStart + partSize, end) - 1;
        boolean first = inFlight.isEmpty() && ready.isEmpty();
        if (!first && !reads.budget().tryTake(last + 1 - nextStart)) {
          return; // the budget is spent: go on with one part at a time
        }
        startPart(last, !first);
      }
    }

    private void emit() {
      while (isAvailable(out) && ready.containsKey(emitIndex)) {
        ByteString part = ready.remove(emitIndex);
        Long taken = budgeted.remove(emitIndex);
        if (taken != null) {
          reads.budget().give(taken);
        }
        emitIndex++;
        if (!part.isEmpty()) {
          push(out, part);
        }
      }
      if (end >= 0 && nextStart >= end && inFlight.isEmpty() && ready.isEmpty()) {
        completeStage();
      } else {
        startMore();
      }
    }

    @Override
    public void postStop() {
      inFlight.values().forEach(RangeRead::cancel);
      inFlight.clear();
      budgeted.values().forEach(reads.budget()::give);
      budgeted.clear();
      ready.clear();
    }
  }
}
