package dev.conveyor.workers.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.io.Output;
import java.lang.management.ManagementFactory;
import java.util.function.Consumer;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * A message from another node is read only as far as its own bytes go: an unregistered class or a
 * length claimed beyond the message — crafted to make the reader allocate gigabytes — is refused
 * with the serializer's own error, having allocated next to nothing; random bytes are refused the
 * same way.
 */
class HostileMessagesTest {
  /** No actor system: the registry's plain types need none (actor and stream references do). */
  static final KryoSerializer WIRE = new KryoSerializer(null);

  static final long LITTLE = 1 << 20;

  /** The bytes {@code write} puts down: a class id as Kryo writes it (id + 2), then what the crafted message claims. */
  static byte[] crafted(int classId, Consumer<Output> write) {
    Output out = new Output(64, 1024);
    out.writeVarInt(classId + 2, true);
    write.accept(out);
    return out.toBytes();
  }

  static long allocatedReading(byte[] message) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    try {
      WIRE.fromBinaryJava(message, null);
    } catch (IllegalArgumentException expected) {
      // what a refused message ends in
    }
    return threads.getCurrentThreadAllocatedBytes() - before;
  }

  static void refusedCheaply(String what, byte[] message) {
    assertThatThrownBy(() -> WIRE.fromBinaryJava(message, null)).as(what)
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("cannot read a message from another node");
    assertThat(allocatedReading(message)).as(what + ": bytes allocated while refusing it").isLessThan(LITTLE);
  }

  @Test
  void anUnregisteredClassIsRefused() {
    byte[] m = crafted(4242, o -> o.writeString("java.lang.ProcessBuilder"));
    assertThatThrownBy(() -> WIRE.fromBinaryJava(m, null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unregistered class ID: 4242");
    refusedCheaply("class 4242", m);
  }

  @Test
  void lengthsClaimedBeyondTheMessageAreRefusedBeforeTheyAreAllocated() {
    int huge = Integer.MAX_VALUE - 8;
    refusedCheaply("byte[] of 2 GiB", crafted(100, o -> o.writeVarInt(huge, true)));
    refusedCheaply("int[] of 2 G ints", crafted(101, o -> o.writeVarInt(huge, true)));
    refusedCheaply("a list of 2 G items", crafted(103, o -> o.writeVarInt(huge, true)));
    refusedCheaply("a map of 2 G entries", crafted(107, o -> o.writeVarInt(huge, true)));
    refusedCheaply("a ByteString of 2 GiB", crafted(110, o -> o.writeVarInt(huge, true)));
    refusedCheaply("a shard set of 2 G shards", crafted(212, o -> o.writeVarInt(huge, true)));
    refusedCheaply("a shard set whose one name claims 1 G characters", crafted(212, o -> {
      o.writeVarInt(1, true);
      o.writeVarIntFlag(true, (1 << 30) + 1, true); // a UTF-8 string's character count (+1)
      o.writeBytes(new byte[16]);
    }));
  }

  @Test
  void whatTheNodesSendStillCrosses() {
    byte[] bytes = WIRE.toBinary(new byte[] {1, 2, 3});
    assertThat((byte[]) WIRE.fromBinaryJava(bytes, null)).containsExactly(1, 2, 3);
    java.util.List<String> names = java.util.List.of("s3://b/part-000000.tar", "ünïcode");
    assertThat(WIRE.fromBinaryJava(WIRE.toBinary(names), null)).isEqualTo(names);
  }

  @Property(tries = 2000)
  void randomBytesAreReadOrRefusedWithTheSerializersErrorAndLittleMemory(@ForAll @Size(max = 256) byte[] message) {
    try {
      WIRE.fromBinaryJava(message, null);
    } catch (IllegalArgumentException e) {
      assertThat(e).hasMessageStartingWith("cannot read a message from another node");
    }
    assertThat(allocatedReading(message)).isLessThan(LITTLE);
  }
}
