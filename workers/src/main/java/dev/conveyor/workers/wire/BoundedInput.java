package dev.conveyor.workers.wire;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * A Kryo input over one whole message that refuses any length it claims beyond the bytes it has:
 * an array, string or collection of n elements takes at least n bytes, so a message from another
 * node claiming more — corrupt, or crafted to make the reader allocate gigabytes — is refused
 * before anything of that size is allocated.
 */
final class BoundedInput extends Input {
  BoundedInput(byte[] message) {
    super(message);
  }

  /** Fails unless {@code count} elements of at least one byte each can still follow. */
  void claim(int count, String what) {
    int remaining = limit - position;
    if (count < 0 || count > remaining) {
      throw new KryoException(what + " of " + Integer.toUnsignedString(count) + " claimed with " + remaining
          + " byte(s) of the message left");
    }
  }

  /** Reads an element count written with {@code writeVarInt(n, true)}, checked by {@link #claim}. */
  int readCount(String what) {
    int n = readVarInt(true);
    claim(n, what);
    return n;
  }

  @Override
  public byte[] readBytes(int length) {
    claim(length, "bytes");
    return super.readBytes(length);
  }

  @Override
  public int[] readInts(int length, boolean optimizePositive) {
    claim(length, "ints");
    return super.readInts(length, optimizePositive);
  }

  @Override
  public int[] readInts(int length) {
    claim(length, "ints");
    return super.readInts(length);
  }

  @Override
  public long[] readLongs(int length, boolean optimizePositive) {
    claim(length, "longs");
    return super.readLongs(length, optimizePositive);
  }

  @Override
  public long[] readLongs(int length) {
    claim(length, "longs");
    return super.readLongs(length);
  }

  @Override
  public float[] readFloats(int length) {
    claim(length, "floats");
    return super.readFloats(length);
  }

  @Override
  public double[] readDoubles(int length) {
    claim(length, "doubles");
    return super.readDoubles(length);
  }

  @Override
  public short[] readShorts(int length) {
    claim(length, "shorts");
    return super.readShorts(length);
  }

  @Override
  public char[] readChars(int length) {
    claim(length, "chars");
    return super.readChars(length);
  }

  @Override
  public boolean[] readBooleans(int length) {
    claim(length, "booleans");
    return super.readBooleans(length);
  }

  /** A UTF-8 string claims its character count first: each character takes at least a byte. */
  @Override
  public String readString() {
    if (position < limit && readVarIntFlag()) {
      int start = position;
      int count = readVarIntFlag(true);
      if (count > 1) {
        claim(count - 1, "a string");
      }
      setPosition(start);
    }
    return super.readString();
  }

  @Override
  public StringBuilder readStringBuilder() {
    String s = readString();
    return s == null ? null : new StringBuilder(s);
  }

  /** The count a serializer reads from {@code in}: checked when {@code in} is a message from another node. */
  static int count(Input in, String what) {
    if (in instanceof BoundedInput b) {
      return b.readCount(what);
    }
    return in.readVarInt(true);
  }
}
