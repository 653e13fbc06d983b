package dev.conveyor.workers.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.JSerializer;

/**
 * Conveyor's Pekko serializer for everything that crosses nodes: Kryo with registration
 * required and the fixed ids of {@link WireRegistry}. A class that is not registered is
 * refused when a message is serialized (an {@link IllegalArgumentException} naming it), never
 * sent under a name the other side might read differently; one that is not registered, or a
 * length a message claims beyond its own bytes, is refused when a message is read, before
 * anything is allocated for it ({@link BoundedInput}). Artery refuses to send a frame above
 * {@code maximum-frame-size} (on the way in it does not check: TLS keeps strangers from the
 * port, see TlsRemoting). Kryo instances are pooled: one
 * per thread at a time, since a Kryo is not thread-safe; each with the output buffer it last
 * wrote into, kept up to {@value #KEEP} bytes, so that a batch of decoded images is not written
 * into a buffer grown and copied again and again from 64 KiB (23 % of a worker's CPU samples in
 * {@code bench cluster --pin}, before).
 */
public final class KryoSerializer extends JSerializer {
  /** Pekko's id of this serializer (Pekko's own are below 100). */
  public static final int IDENTIFIER = 7301;
  private static final int BUFFER = 64 * 1024;
  private static final int MAX_MESSAGE = 256 * 1024 * 1024;
  /** The largest output buffer a pooled writer keeps between messages (a frame's worth). */
  static final int KEEP = 16 * 1024 * 1024 + 64 * 1024;

  /** A Kryo and the output buffer it writes into, used by one thread at a time. */
  private static final class Writer {
    final Kryo kryo;
    Output out = new Output(BUFFER, MAX_MESSAGE);

    Writer(Kryo kryo) {
      this.kryo = kryo;
    }
  }

  private final Pool<Kryo> kryos;
  private final Pool<Writer> writers;

  public KryoSerializer(ExtendedActorSystem system) {
    this.kryos = new Pool<>(true, false, 64) {
      @Override
      protected Kryo create() {
        return WireRegistry.newKryo(system);
      }
    };
    this.writers = new Pool<>(true, false, 64) {
      @Override
      protected Writer create() {
        return new Writer(WireRegistry.newKryo(system));
      }
    };
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false; // Kryo writes the registered id of the class itself
  }

  @Override
  public byte[] toBinary(Object o) {
    Writer w = writers.obtain();
    try {
      w.out.reset();
      w.kryo.writeClassAndObject(w.out, o);
      return w.out.toBytes();
    } catch (KryoException | IllegalArgumentException e) { // Kryo refuses an unregistered class with the latter
      w.out = new Output(BUFFER, MAX_MESSAGE); // a write cut short leaves nothing behind
      w.kryo.reset();
      throw new IllegalArgumentException("cannot send " + o.getClass().getName() + " to another node: "
          + firstLine(e.getMessage()), e);
    } finally {
      if (w.out.getBuffer().length > KEEP) {
        w.out = new Output(BUFFER, MAX_MESSAGE);
      }
      writers.free(w);
    }
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    Kryo k = kryos.obtain();
    try (Input in = new BoundedInput(bytes)) {
      return k.readClassAndObject(in);
    } catch (RuntimeException e) { // KryoException, or a record refusing what was read into it
      throw new IllegalArgumentException("cannot read a message from another node: " + firstLine(e.getMessage()), e);
    } finally {
      kryos.free(k);
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
