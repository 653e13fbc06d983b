package dev.conveyor.workers.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.conveyor.streams.plan.SelectedShardSet;
import dev.conveyor.streams.plan.ShardSet;
import java.util.ArrayList;
import java.util.List;

/** How a recipe's shards cross the wire: compactly, a shard a name and a count or two. */
final class ShardSetSerializers {
  private ShardSetSerializers() {}

  /** A recipe's shards: their URIs and sample counts. */
  static final class Whole extends Serializer<ShardSet> {
    Whole() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, ShardSet set) {
      out.writeVarInt(set.size(), true);
      for (int i = 0; i < set.size(); i++) {
        out.writeString(set.name(i));
        out.writeVarInt(set.count(i), true);
      }
    }

    @Override
    public ShardSet read(Kryo kryo, Input in, Class<? extends ShardSet> type) {
      int n = BoundedInput.count(in, "a shard set");
      List<String> names = new ArrayList<>(n);
      int[] counts = new int[n];
      for (int i = 0; i < n; i++) {
        names.add(in.readString());
        counts[i] = in.readVarInt(true);
      }
      return new ShardSet(names, counts);
    }
  }

  /**
   * A recipe's shards over a catalog's query: URIs, each shard's own sample count and the chosen
   * samples' numbers (a flag for "all", else a count and the gaps between them), and the query.
   */
  static final class Selected extends Serializer<SelectedShardSet> {
    Selected() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, SelectedShardSet set) {
      out.writeString(set.selection());
      out.writeVarInt(set.size(), true);
      for (int i = 0; i < set.size(); i++) {
        out.writeString(set.name(i));
        out.writeVarInt(set.held(i), true);
        int[] chosen = set.chosen(i);
        out.writeBoolean(chosen != null);
        if (chosen != null) {
          out.writeVarInt(chosen.length, true);
          int last = -1;
          for (int c : chosen) {
            out.writeVarInt(c - last, true);
            last = c;
          }
        }
      }
    }

    @Override
    public SelectedShardSet read(Kryo kryo, Input in,
        Class<? extends SelectedShardSet> type) {
      String selection = in.readString();
      int n = BoundedInput.count(in, "a shard set");
      List<String> names = new ArrayList<>(n);
      int[] held = new int[n];
      int[][] chosen = new int[n][];
      for (int i = 0; i < n; i++) {
        names.add(in.readString());
        held[i] = in.readVarInt(true);
        if (in.readBoolean()) {
          int k = BoundedInput.count(in, "a shard's chosen samples");
          chosen[i] = new int[k];
          int last = -1;
          for (int j = 0; j < k; j++) {
            last += in.readVarInt(true);
            chosen[i][j] = last;
          }
        }
      }
      return new SelectedShardSet(names, chosen, held, selection);
    }
  }
}
