package dev.conveyor.cli;

import static java.util.Objects.requireNonNull;

import dev.conveyor.orchestrator.node.TrainerRings;
import dev.conveyor.streams.json.Json;
import dev.conveyor.workers.feeder.RingTrainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One feed process serving every rank of a job on this machine ({@code conveyor feed --share
 * SOCKET}): the trainer processes of {@code torchrun --nproc_per_node N} share one JVM, one
 * decoder pool, and get one ring each. Each trainer connects to a Unix socket and says {@code
 * attach RANK PID}; it is told {@code node: {"pid": P}} at once and {@code ring: {...}} once its
 * rank's ring is ready, and says {@code done} when its iteration has ended.
 *
 * <p>A trainer whose connection closes before it said {@code done} has died (or stopped early):
 * the job cannot go on without its rank, so every other trainer is told {@code failed: WHY} at
 * once, the rings' and socket's files are removed and this process halts. So is it when the
 * trainer that started this process (its parent, whose pipe is standard input) goes before it
 * said {@code done}. Otherwise the process ends with the job, as a feed does.
 */
final class SharedFeed implements AutoCloseable {
  private final Path socket;
  private final ServerSocketChannel server;
  private final PrintWriter err;
  private final int world;
  private final long parent;
  private final Map<Integer, RingTrainer.Announced> announced = new ConcurrentHashMap<>();
  private final Map<Integer, Trainer> trainers = new ConcurrentHashMap<>();
  private volatile String failure;
  private volatile boolean closed; // the job ended: a trainer's leaving is nothing to act on now

  /**
   * A trainer process's connection. Writes go straight to the channel (a stream over it would
   * take the channel's lock that a pending read holds) and are serialized: announcements come
   * from the ring writers' threads.
   */
  private static final class Trainer {
    final int rank;
    final long pid;
    final SocketChannel ch;
    volatile boolean done;

    Trainer(int rank, long pid, SocketChannel ch) {
      this.rank = rank;
      this.pid = pid;
      this.ch = ch;
    }

    synchronized void say(String line) {
      SharedFeed.say(ch, line);
    }
  }

  private static void say(SocketChannel ch, String line) {
    ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
    try {
      while (b.hasRemaining()) {
        ch.write(b);
      }
    } catch (IOException e) {
      // the trainer is gone: its reading side notices
    }
  }

  /** The next line the trainer sent (without its end), or null at the end of its connection. */
  private static String readLine(SocketChannel ch, ByteBuffer buf) throws IOException {
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    while (true) {
      if (!buf.hasRemaining()) {
        buf.clear();
        if (ch.read(buf) < 0) {
          return null;
        }
        buf.flip();
        continue;
      }
      byte c = buf.get();
      if (c == '\n') {
        return line.toString(StandardCharsets.UTF_8);
      }
      if (line.size() > 4096) {
        throw new IOException("a line of over 4 KiB");
      }
      line.write(c);
    }
  }

  private SharedFeed(Path socket, int world, ServerSocketChannel server, PrintWriter err) {
    this.socket = socket;
    this.world = world;
    this.server = server;
    this.err = err;
    this.parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
  }

  /** Listens on {@code socket} (a stale file of a dead node is replaced) for the trainers of ranks 0 to world - 1. */
  static SharedFeed listen(Path socket, int world, InputStream parentPipe, PrintWriter err) throws IOException {
    requireNonNull(socket, "socket is null");
    Files.deleteIfExists(socket); // the trainers hold a lock while one starts a node: a file here is a dead node's
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    SharedFeed feed = new SharedFeed(socket, world, server, err);
    daemon("shared-feed-accept", feed::accept);
    daemon("trainer-pipe-watch", () -> feed.watchParent(parentPipe));
    return feed;
  }

  /** The announcement line the starting trainer waits for on stdout. */
  String line() {
    return "share: " + Json.compact(Json.object().put("socket", socket.toString())
        .put("pid", ProcessHandle.current().pid()));
  }

  /** Every rank waits here for its trainer: each rank's ring is announced on its trainer's connection. */
  void attachAll(TrainerRings rings, RingTrainer.Settings settings) {
    for (int r = 0; r < world; r++) {
      int rank = r;
      rings.attach(rank, new TrainerRings.Attachment(settings, a -> announce(rank, a), () -> failure == null));
    }
  }

  private void announce(int rank, RingTrainer.Announced a) {
    announced.put(rank, a);
    Trainer t = trainers.get(rank);
    if (t != null) {
      t.say(a.line());
    }
  }

  private void accept() {
    while (server.isOpen()) {
      try {
        SocketChannel ch = server.accept();
        daemon("shared-feed-trainer", () -> serve(ch));
      } catch (IOException e) {
        return; // closed: the job ended
      }
    }
  }

  private void serve(SocketChannel ch) {
    Trainer me = null;
    try (ch) {
      ByteBuffer buf = ByteBuffer.allocate(512).flip();
      String[] hello = String.valueOf(readLine(ch, buf)).split(" ");
      me = attach(hello, ch);
      if (me == null) {
        return;
      }
      for (String line = readLine(ch, buf); line != null; line = readLine(ch, buf)) {
        if (line.equals("done")) {
          me.done = true;
        }
      }
    } catch (IOException e) {
      // a broken connection is the trainer's leaving, handled below
    }
    if (me != null && !me.done) {
      fail("the trainer of rank " + me.rank + " (pid " + me.pid + ") went away before its last batch");
    }
  }

  /** The trainer that says {@code attach RANK PID}, or null (it was told why) when it cannot attach. */
  private Trainer attach(String[] hello, SocketChannel ch) {
    int rank;
    long pid;
    try {
      if (hello.length != 3 || !hello[0].equals("attach")) {
        throw new NumberFormatException();
      }
      rank = Integer.parseInt(hello[1]);
      pid = Long.parseLong(hello[2]);
    } catch (NumberFormatException e) {
      say(ch, "refused: say 'attach RANK PID'");
      return null;
    }
    Trainer t = new Trainer(rank, pid, ch);
    if (rank < 0 || rank >= world || trainers.putIfAbsent(rank, t) != null) {
      say(ch, "refused: rank " + rank + " is not one of this node's " + world + ", or its trainer is attached already");
      return null;
    }
    t.say("node: " + Json.compact(Json.object().put("pid", ProcessHandle.current().pid())));
    String why = failure;
    if (why != null) {
      t.say("failed: " + why);
    }
    RingTrainer.Announced a = announced.get(rank);
    if (a != null) {
      t.say(a.line());
    }
    return t;
  }

  private void watchParent(InputStream in) {
    byte[] buf = new byte[256];
    try {
      while (in.read(buf) >= 0) {
        // the trainer writes nothing; reading only waits for the end
      }
    } catch (IOException e) {
      // a broken pipe ends it the same way
    }
    Trainer starter = trainers.values().stream().filter(t -> t.pid == parent).findFirst().orElse(null);
    if (starter == null) {
      fail("the trainer process that started this node (pid " + parent + ") went away before it attached");
    } else if (!starter.done) {
      fail("the trainer of rank " + starter.rank + " (pid " + parent + "), which started this node, went away before"
          + " its last batch");
    }
  }

  /** Tells every trainer why, removes every file this node made in shared memory, and halts. */
  private synchronized void fail(String why) {
    if (failure != null || closed) {
      return;
    }
    failure = why;
    err.println("feed: " + why + ": stopping every rank of this node");
    err.flush();
    for (Trainer t : trainers.values()) {
      if (!t.done) {
        t.say("failed: " + why);
      }
    }
    removeFiles();
    Runtime.getRuntime().halt(ConveyorCli.EXIT_FAILURE);
  }

  private void removeFiles() {
    for (RingTrainer.Announced a : announced.values()) {
      try {
        Files.deleteIfExists(a.file());
      } catch (IOException e) {
        err.println("feed: could not remove " + a.file() + ": " + e.getMessage());
      }
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      err.println("feed: could not remove " + socket + ": " + e.getMessage());
    }
  }

  /** The job ended: no more trainers are taken and the socket's file goes. */
  @Override
  public synchronized void close() throws IOException {
    closed = true;
    server.close();
    Files.deleteIfExists(socket);
  }

  private static void daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }
}
