package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared feed's conversation with trainer processes (a trainer's leaving halts the process,
 * so that part is proven by the Python tests with real processes: python/tests/test_shared.py).
 */
class SharedFeedTest {
  @TempDir
  Path dir;

  /** The starting trainer's pipe, which never ends here (its end would halt this JVM, as it should a feed). */
  static final InputStream PARENT_STAYS = new InputStream() {
    @Override
    public int read() throws IOException {
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("interrupted");
    }
  };

  static SocketChannel connect(Path socket) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(socket));
    return ch;
  }

  static void say(SocketChannel ch, String line) throws IOException {
    ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
  }

  static String hear(SocketChannel ch) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (true) {
      one.clear();
      if (ch.read(one) < 0) {
        return null;
      }
      if (one.get(0) == '\n') {
        return line.toString(StandardCharsets.UTF_8);
      }
      line.write(one.get(0));
    }
  }

  @Test
  void aTrainerOfARankOfTheJobIsToldTheNodeAndOthersAreRefusedWithTheReason() throws Exception {
    Path socket = dir.resolve("feed.sock");
    Files.writeString(socket, "a dead node's file");
    StringWriter err = new StringWriter();
    try (SharedFeed feed = SharedFeed.listen(socket, 2, PARENT_STAYS, new PrintWriter(err, true))) {
      assertThat(feed.line()).startsWith("share: {\"socket\":\"" + socket + "\",\"pid\":" + ProcessHandle.current().pid());
      try (SocketChannel one = connect(socket); SocketChannel again = connect(socket);
           SocketChannel outside = connect(socket); SocketChannel garbled = connect(socket)) {
        say(one, "attach 1 4242");
        assertThat(hear(one)).isEqualTo("node: {\"pid\":" + ProcessHandle.current().pid() + "}");
        say(again, "attach 1 4343");
        assertThat(hear(again)).startsWith("refused: rank 1 ").contains("attached already");
        assertThat(hear(again)).as("then closed").isNull();
        say(outside, "attach 2 4444");
        assertThat(hear(outside)).startsWith("refused: rank 2 is not one of this node's 2");
        say(garbled, "hello");
        assertThat(hear(garbled)).isEqualTo("refused: say 'attach RANK PID'");
        say(one, "done");
      }
      assertThat(err.toString()).isEmpty();
    }
    assertThat(socket).doesNotExist();
  }
}
