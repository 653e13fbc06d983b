package dev.conveyor.streams.tar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
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
import org.apache.pekko.util.ByteString;

/**
 * Parses a tar archive as its bytes arrive: a back-pressured stage from byte chunks to
 * {@link TarRecord}s. It holds at most one member's content (bounded by {@code maxMemberBytes})
 * plus one input chunk, never the archive.
 *
 * <p>Unlike commons-compress, which ends quietly when an archive stops at a header boundary,
 * this parser fails with a {@link TarFormatException} unless it has seen the end-of-archive
 * zero block: a shard cut short on a 512-byte boundary is reported, not silently shortened.
 */
public final class TarParser extends GraphStage<FlowShape<ByteString, TarRecord>> {
  private static final int MAX_META_BYTES = 1 << 20;

  private final Inlet<ByteString> in = Inlet.create("TarParser.in");
  private final Outlet<TarRecord> out = Outlet.create("TarParser.out");
  private final FlowShape<ByteString, TarRecord> shape = FlowShape.of(in, out);
  private final long maxMemberBytes;
  private final boolean range;

  private TarParser(long maxMemberBytes, boolean range) {
    this.maxMemberBytes = maxMemberBytes;
    this.range = range;
  }

  /** A flow that parses one archive; members larger than {@code maxMemberBytes} become {@link TarRecord.Skipped}. */
  public static Flow<ByteString, TarRecord, NotUsed> flow(long maxMemberBytes) {
    return Flow.fromGraph(new TarParser(maxMemberBytes, false));
  }

  /**
   * A flow that parses a byte range of an archive which starts at a member's first header
   * block and ends at a member boundary (a shard index's range): it may end without the
   * end-of-archive block, but not inside a header or a member. Offsets in its records count
   * from the range's first byte.
   */
  public static Flow<ByteString, TarRecord, NotUsed> rangeFlow(long maxMemberBytes) {
    return Flow.fromGraph(new TarParser(maxMemberBytes, true));
  }

  @Override
  public FlowShape<ByteString, TarRecord> shape() {
    return shape;
  }

  private enum State { HEADER, BODY, END }

  private enum Body { FILE, DISCARD, LONG_NAME, PAX }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private final ArrayDeque<TarRecord> ready = new ArrayDeque<>();
      private ByteString buf = ByteString.emptyByteString();
      private long offset; // archive offset of buf's first byte
      private long start = -1; // where the member being read begins: its first header block, PAX or long-name ones included
      private State state = State.HEADER;
      private boolean upstreamDone;

      // the member being read
      private Body body;
      private String name;
      private long remaining;
      private long padding;
      private String skipReason;
      private ByteString acc = ByteString.emptyByteString();

      // names and sizes announced by GNU long-name and PAX headers for the next member
      private String nextName;
      private long nextSize = -1;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            buf = buf.concat(grab(in));
            parse();
            drain();
          }

          @Override
          public void onUpstreamFinish() {
            upstreamDone = true;
            parse();
            drain();
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            drain();
          }
        });
      }

      private void drain() {
        if (!ready.isEmpty() && isAvailable(out)) {
          push(out, ready.poll());
        }
        if (ready.isEmpty()) {
          if (upstreamDone) {
            finish();
          } else if (!hasBeenPulled(in) && !isClosed(in)) {
            pull(in);
          }
        }
      }

      private void finish() {
        if (state == State.END) {
          completeStage();
        } else if (state == State.BODY) {
          failStage(new TarFormatException("truncated mid-member '" + name + "': archive ends "
              + (remaining + padding) + " bytes before the member's last block does (at byte " + (offset + buf.size()) + ")",
              body == Body.FILE || body == Body.DISCARD ? name : null));
        } else if (range && buf.isEmpty()) {
          completeStage(); // a range ends at a member boundary
        } else if (offset == 0 && buf.isEmpty()) {
          failStage(new TarFormatException("empty object: zero bytes, not a tar archive"));
        } else if (buf.nonEmpty()) {
          failStage(new TarFormatException("truncated inside a header block at byte " + offset));
        } else {
          failStage(new TarFormatException("truncated at a header boundary: no end-of-archive block after byte " + offset));
        }
      }

      private void parse() {
        boolean progress = true;
        while (progress) {
          progress = switch (state) {
            case HEADER -> header();
            case BODY -> body();
            case END -> {
              offset += buf.size(); // record padding after the end marker is ignored
              buf = ByteString.emptyByteString();
              yield false;
            }
          };
        }
      }

      private boolean header() {
        if (buf.size() < TarHeader.BLOCK) {
          return false;
        }
        ByteString block = buf.take(TarHeader.BLOCK);
        long at = offset;
        consume(TarHeader.BLOCK);
        if (TarHeader.isZeroBlock(block)) {
          state = State.END;
          return true;
        }
        TarHeader h = TarHeader.parse(block, at);
        if (start < 0) {
          start = at;
        }
        String path = nextName != null ? nextName : h.name();
        long size = nextSize >= 0 ? nextSize : h.size();
        if (size < 0 || h.size() < 0) {
          throw new TarFormatException("member size " + Math.min(size, h.size()) + " is negative in the header at byte " + at);
        }
        String unsafe = "LxKg".indexOf(h.type()) >= 0 ? null : TarHeader.unsafeName(path);
        if (unsafe != null) {
          clearPending();
          begin(Body.DISCARD, TarHeader.printable(path), "123456".indexOf(h.type()) >= 0 ? 0 : size, unsafe); // links, dirs: no data
          return true;
        }
        switch (h.type()) {
          case 'L' -> begin(Body.LONG_NAME, "(GNU long name)", h.size(), null);
          case 'x' -> begin(Body.PAX, "(PAX header)", h.size(), null);
          case 'K', 'g' -> begin(Body.DISCARD, "(metadata)", h.size(), null);
          case '0', '7' -> {
            clearPending();
            if (size > maxMemberBytes) {
              begin(Body.DISCARD, path, size, "member of " + size + " bytes is over max-member-size " + maxMemberBytes);
            } else {
              begin(Body.FILE, path, size, null);
            }
          }
          case '5' -> {
            clearPending();
            begin(Body.DISCARD, path, 0, null); // directories carry no data and are not reported
          }
          default -> {
            clearPending();
            String what = switch (h.type()) {
              case '1' -> "hard link";
              case '2' -> "symbolic link";
              case '3', '4' -> "device node";
              case '6' -> "FIFO";
              default -> "unsupported tar member type '" + h.type() + "'";
            };
            long dataSize = "123456".indexOf(h.type()) >= 0 ? 0 : size;
            begin(Body.DISCARD, path, dataSize, what + ": not a regular file");
          }
        }
        return true;
      }

      private void clearPending() {
        nextName = null;
        nextSize = -1;
      }

      private void begin(Body kind, String path, long size, String reason) {
        if ((kind == Body.LONG_NAME || kind == Body.PAX) && size > MAX_META_BYTES) {
          throw new TarFormatException("tar metadata member of " + size + " bytes at byte " + offset + " is implausibly large");
        }
        body = kind;
        name = path;
        remaining = size;
        padding = (TarHeader.BLOCK - size % TarHeader.BLOCK) % TarHeader.BLOCK;
        skipReason = reason;
        acc = ByteString.emptyByteString();
        state = State.BODY;
        if (size == 0) {
          endBody();
        }
      }

      private boolean body() {
        if (remaining > 0) {
          int n = (int) Math.min(remaining, buf.size());
          if (n == 0) {
            return false;
          }
          if (body != Body.DISCARD) {
            acc = acc.concat(buf.take(n));
          }
          consume(n);
          remaining -= n;
          if (remaining > 0) {
            return false;
          }
        }
        if (padding > 0) {
          int n = (int) Math.min(padding, buf.size());
          consume(n);
          padding -= n;
          if (padding > 0) {
            return false;
          }
        }
        endBody();
        return true;
      }

      private void endBody() {
        if (remaining > 0 || padding > 0) {
          return;
        }
        switch (body) {
          case FILE -> ready.add(new TarRecord.File(name, acc.compact(), start, offset));
          case DISCARD -> {
            if (skipReason != null) {
              ready.add(new TarRecord.Skipped(name, skipReason));
            }
          }
          case LONG_NAME -> nextName = TarHeader.cString(acc.toArray(), 0, acc.size());
          case PAX -> applyPax(acc.toArray());
        }
        if (body != Body.LONG_NAME && body != Body.PAX) {
          start = -1; // the next header begins the next member
        }
        acc = ByteString.emptyByteString();
        state = State.HEADER;
      }

      private void applyPax(byte[] b) {
        int i = 0;
        while (i < b.length) {
          int sp = i;
          while (sp < b.length && b[sp] != ' ') {
            sp++;
          }
          int len;
          try {
            len = Integer.parseInt(new String(b, i, sp - i, StandardCharsets.US_ASCII));
          } catch (NumberFormatException e) {
            throw new TarFormatException("malformed PAX header near byte " + offset);
          }
          if (len <= 0 || i + len > b.length || sp >= i + len) {
            throw new TarFormatException("malformed PAX header near byte " + offset);
          }
          String rec = new String(b, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
          int eq = rec.indexOf('=');
          if (eq > 0) {
            String key = rec.substring(0, eq);
            String value = rec.substring(eq + 1);
            if (key.equals("path")) {
              nextName = value;
            } else if (key.equals("size")) {
              try {
                nextSize = Long.parseLong(value);
              } catch (NumberFormatException e) {
                nextSize = -1;
              }
              if (nextSize < 0) {
                throw new TarFormatException("malformed PAX size \"" + TarHeader.printable(value) + "\" near byte " + offset);
              }
            }
          }
          i += len;
        }
      }

      private void consume(int n) {
        buf = buf.drop(n);
        offset += n;
      }
    };
  }
}
