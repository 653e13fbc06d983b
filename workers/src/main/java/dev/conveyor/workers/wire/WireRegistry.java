package dev.conveyor.workers.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.conveyor.streams.pipeline.ReadEvent;
import dev.conveyor.streams.sample.DeadLetter;
import dev.conveyor.streams.sample.Decoded;
import dev.conveyor.streams.sample.Member;
import dev.conveyor.streams.sample.RawSample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.StreamRefResolver;
import dev.conveyor.streams.plan.Window;
import dev.conveyor.streams.plan.WindowSlice;
import dev.conveyor.workers.reader.ShardReader;

/**
 * Every class that may cross nodes, each with a fixed Kryo id. The ids are the wire format:
 * append new classes with new ids, never renumber or reuse one, so that nodes of one version
 * understand each other. Anything not listed here is refused on the way out
 * ({@code registrationRequired}), and Java serialization is off.
 */
public final class WireRegistry {
  private WireRegistry() {}

  /** The registrations, in id order: what the wire format test pins. */
  static List<Entry> entries() {
    List<Entry> e = new ArrayList<>();
    // JDK and Pekko types the messages are made of
    e.add(new Entry(100, byte[].class, null));
    e.add(new Entry(101, int[].class, null));
    e.add(new Entry(102, forName("java.util.ImmutableCollections$List12"), Kind.LIST));
    e.add(new Entry(103, forName("java.util.ImmutableCollections$ListN"), Kind.LIST));
    e.add(new Entry(104, ArrayList.class, Kind.LIST));
    e.add(new Entry(105, forName("java.util.ImmutableCollections$Map1"), Kind.MAP));
    e.add(new Entry(106, forName("java.util.ImmutableCollections$MapN"), Kind.MAP));
    e.add(new Entry(107, HashMap.class, Kind.MAP));
    e.add(new Entry(108, LinkedHashMap.class, Kind.MAP));
    e.add(new Entry(109, Optional.class, Kind.OPTIONAL));
    e.add(new Entry(110, forName("org.apache.pekko.util.ByteString$ByteString1C"), Kind.BYTES));
    e.add(new Entry(111, forName("org.apache.pekko.util.ByteString$ByteString1"), Kind.BYTES));
    e.add(new Entry(112, forName("org.apache.pekko.util.ByteString$ByteStrings"), Kind.BYTES));
    e.add(new Entry(113, forName("org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter"), Kind.ACTOR_REF));
    e.add(new Entry(114, java.time.Duration.class, null));
    e.add(new Entry(115, long[].class, null));
    // samples and what the reader says of them (streams)
    e.add(new Entry(200, RawSample.class, null));
    e.add(new Entry(201, Member.class, null));
    e.add(new Entry(202, DeadLetter.class, null));
    e.add(new Entry(203, Decoded.class, null));
    e.add(new Entry(204, Decoded.Picture.class, null));
    e.add(new Entry(205, Decoded.Clip.class, null));
    e.add(new Entry(206, ReadEvent.Slot.class, null));
    e.add(new Entry(207, ReadEvent.Report.class, null));
    e.add(new Entry(208, WindowSlice.class, null));
    e.add(new Entry(209, Window.class, null));
    e.add(new Entry(210, dev.conveyor.streams.plan.Recipe.class, null));
    e.add(new Entry(211, dev.conveyor.streams.plan.Recipe.Shuffle.class, null));
    e.add(new Entry(212, dev.conveyor.streams.plan.ShardSet.class, Kind.SHARD_SET));
    e.add(new Entry(213, dev.conveyor.streams.store.ShardCheck.class, null));
    e.add(new Entry(214, dev.conveyor.streams.sample.Filtered.class, null));
    e.add(new Entry(215, dev.conveyor.streams.plan.Mix.class, null));
    e.add(new Entry(216, dev.conveyor.streams.plan.Mix.Source.class, null));
    e.add(new Entry(217, dev.conveyor.streams.plan.Mix.Batching.class, null));
    e.add(new Entry(218, dev.conveyor.streams.batch.SourceCounts.class, null));
    e.add(new Entry(219, dev.conveyor.streams.sample.Expanded.class, null));
    e.add(new Entry(220, dev.conveyor.streams.pipeline.BatchGate.Started.class, null));
    e.add(new Entry(221, dev.conveyor.streams.pipeline.BatchGate.Made.class, null));
    e.add(new Entry(222, dev.conveyor.streams.pipeline.BatchGate.RanOut.class, null));
    e.add(new Entry(223, dev.conveyor.streams.pipeline.BatchGate.Failed.class, null));
    e.add(new Entry(224, dev.conveyor.streams.plan.Packing.class, null));
    e.add(new Entry(225, dev.conveyor.streams.plan.Bucketing.class, null));
    e.add(new Entry(226, dev.conveyor.streams.plan.SelectedShardSet.class, Kind.SELECTED_SHARD_SET));
    // the shard readers' protocol (workers)
    e.add(new Entry(300, ShardReader.Lease.class, null));
    e.add(new Entry(301, ShardReader.Offer.class, null));
    // 302 was ShardReader$SliceEvent (one event per element): retired for 306
    e.add(new Entry(303, ShardReader.SliceEnd.class, null));
    e.add(new Entry(304, forName("org.apache.pekko.stream.impl.streamref.SourceRefImpl"), Kind.SOURCE_REF));
    e.add(new Entry(305, ShardReader.SliceHandedBack.class, null));
    e.add(new Entry(306, ShardReader.SliceEvents.class, null));
    // actor pools that serve other workers' samples (workers)
    e.add(new Entry(307, dev.conveyor.workers.pool.PoolFront.Run.class, null));
    e.add(new Entry(308, dev.conveyor.workers.pool.PoolRouter.Ran.class, null));
    return e;
  }

  /** How a class is written: by Kryo's default for it (records field by field), or by one of ours. */
  enum Kind { LIST, MAP, OPTIONAL, BYTES, ACTOR_REF, SOURCE_REF, SHARD_SET, SELECTED_SHARD_SET }

  record Entry(int id, Class<?> type, Kind kind) {}

  /**
   * The entries, and after them the classes the modules above add in their
   * {@code reference.conf} under {@code conveyor.wire.classes} ("class name" = id, ids from
   * 1000 on), checked: each id once, each class once.
   */
  static List<Entry> entries(com.typesafe.config.Config config) {
    List<Entry> all = new ArrayList<>(entries());
    if (config != null && config.hasPath("conveyor.wire.classes")) {
      com.typesafe.config.Config extra = config.getConfig("conveyor.wire.classes");
      List<Entry> added = new ArrayList<>();
      for (Map.Entry<String, com.typesafe.config.ConfigValue> e : extra.root().entrySet()) {
        int id = extra.getInt("\"" + e.getKey() + "\"");
        if (id < 1000) {
          throw new IllegalStateException("conveyor.wire.classes: ids below 1000 are the workers module's; "
              + e.getKey() + " has " + id);
        }
        added.add(new Entry(id, forName(e.getKey()), null));
      }
      added.sort(java.util.Comparator.comparingInt(Entry::id));
      all.addAll(added);
    }
    java.util.Set<Integer> ids = new java.util.HashSet<>();
    java.util.Set<Class<?>> types = new java.util.HashSet<>();
    for (Entry e : all) {
      if (!ids.add(e.id()) || !types.add(e.type())) {
        throw new IllegalStateException("the wire registry names id " + e.id() + " or " + e.type().getName() + " twice");
      }
    }
    return all;
  }

  /** A Kryo that knows exactly the registered classes. */
  static Kryo newKryo(ExtendedActorSystem system) {
    Kryo k = new Kryo();
    k.setRegistrationRequired(true);
    k.setReferences(false); // messages are trees
    ActorRefResolver resolver = system == null ? null : ActorRefResolver.get(Adapter.toTyped(system));
    StreamRefResolver streams = system == null ? null : StreamRefResolver.get(system);
    for (Entry e : entries(system == null ? null : system.settings().config())) {
      if (e.kind() == null) {
        k.register(e.type(), e.id());
      } else {
        k.register(e.type(), serializer(e.kind(), resolver, streams), e.id());
      }
    }
    return k;
  }

  private static Serializer<?> serializer(Kind kind, ActorRefResolver resolver, StreamRefResolver streams) {
    return switch (kind) {
      case LIST -> new ListSerializer();
      case MAP -> new MapSerializer();
      case OPTIONAL -> new OptionalSerializer();
      case BYTES -> new ByteStringSerializer();
      case ACTOR_REF -> new ActorRefSerializer(resolver);
      case SOURCE_REF -> new SourceRefSerializer(streams);
      case SHARD_SET -> new ShardSetSerializers.Whole();
      case SELECTED_SHARD_SET -> new ShardSetSerializers.Selected();
    };
  }

  private static Class<?> forName(String name) {
    try {
      return Class.forName(name);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("a class the wire format names is missing from this runtime: " + name, e);
    }
  }

  /** Any list, read back as an unmodifiable list. */
  private static final class ListSerializer extends Serializer<List<?>> {
    ListSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, List<?> list) {
      out.writeVarInt(list.size(), true);
      for (Object o : list) {
        kryo.writeClassAndObject(out, o);
      }
    }

    @Override
    public List<?> read(Kryo kryo, Input in, Class<? extends List<?>> type) {
      int n = BoundedInput.count(in, "a list");
      Object[] items = new Object[n];
      for (int i = 0; i < n; i++) {
        items[i] = kryo.readClassAndObject(in);
      }
      return List.of(items);
    }
  }

  /** Any map, read back as an unmodifiable map. */
  private static final class MapSerializer extends Serializer<Map<?, ?>> {
    MapSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, Map<?, ?> map) {
      out.writeVarInt(map.size(), true);
      for (Map.Entry<?, ?> e : map.entrySet()) {
        kryo.writeClassAndObject(out, e.getKey());
        kryo.writeClassAndObject(out, e.getValue());
      }
    }

    @Override
    public Map<?, ?> read(Kryo kryo, Input in, Class<? extends Map<?, ?>> type) {
      int n = BoundedInput.count(in, "a map");
      Map<Object, Object> m = new HashMap<>();
      for (int i = 0; i < n; i++) {
        m.put(kryo.readClassAndObject(in), kryo.readClassAndObject(in));
      }
      return Map.copyOf(m);
    }
  }

  private static final class OptionalSerializer extends Serializer<Optional<?>> {
    OptionalSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, Optional<?> o) {
      out.writeBoolean(o.isPresent());
      o.ifPresent(v -> kryo.writeClassAndObject(out, v));
    }

    @Override
    public Optional<?> read(Kryo kryo, Input in, Class<? extends Optional<?>> type) {
      return in.readBoolean() ? Optional.of(kryo.readClassAndObject(in)) : Optional.empty();
    }
  }

  /** A ByteString as its bytes (one copy out; the bytes read are wrapped, not copied again). */
  private static final class ByteStringSerializer extends Serializer<ByteString> {
    ByteStringSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, ByteString b) {
      out.writeVarInt(b.size(), true);
      for (java.nio.ByteBuffer bb : b.getByteBuffers()) {
        byte[] chunk = new byte[bb.remaining()];
        bb.get(chunk);
        out.writeBytes(chunk);
      }
    }

    @Override
    public ByteString read(Kryo kryo, Input in, Class<? extends ByteString> type) {
      return ByteString.fromArrayUnsafe(in.readBytes(BoundedInput.count(in, "a byte string")));
    }
  }

  /** A stream reference as its serialization format, resolved in the receiving system. */
  private static final class SourceRefSerializer extends Serializer<SourceRef<?>> {
    private final StreamRefResolver resolver;

    SourceRefSerializer(StreamRefResolver resolver) {
      this.resolver = resolver;
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, SourceRef<?> ref) {
      out.writeString(resolver.toSerializationFormat(ref));
    }

    @Override
    public SourceRef<?> read(Kryo kryo, Input in, Class<? extends SourceRef<?>> type) {
      return resolver.resolveSourceRef(in.readString());
    }
  }

  /** A typed actor reference as its serialization format, resolved in the receiving system. */
  private static final class ActorRefSerializer extends Serializer<ActorRef<?>> {
    private final ActorRefResolver resolver;

    ActorRefSerializer(ActorRefResolver resolver) {
      this.resolver = resolver;
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, ActorRef<?> ref) {
      out.writeString(resolver.toSerializationFormat(ref));
    }

    @Override
    public ActorRef<?> read(Kryo kryo, Input in, Class<? extends ActorRef<?>> type) {
      return resolver.resolveActorRef(in.readString());
    }
  }
}
