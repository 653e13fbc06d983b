package dev.conveyor.sim.faults;

import dev.conveyor.sim.faults.FaultPlan.Fault;
import dev.conveyor.sim.faults.FaultPlan.Rule;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An HTTP/1.1 proxy on 127.0.0.1 in front of an S3 server that injects faults by a
 * {@link FaultPlan}: 503 SlowDown and 500 answers, latency, responses whose body is cut
 * halfway by a reset, a stall or a clean close, and bodies with a byte changed. Requests are forwarded byte for byte (so their
 * SigV4 signatures stay valid), one request per connection ({@code Connection: close}).
 * The plan can be swapped while it runs, to start and end an outage.
 */
public final class FaultProxy implements AutoCloseable {
  private static final int MAX_HEAD = 64 * 1024;

  private final InetSocketAddress upstream;
  private final ServerSocket server;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fault-proxy");
    t.setDaemon(true);
    return t;
  });
  private final AtomicReference<FaultPlan> plan;
  private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
  private final AtomicLong requests = new AtomicLong();
  private final Map<String, AtomicLong> byLine = new ConcurrentHashMap<>();
  private final List<Arrival> arrivals = java.util.Collections.synchronizedList(new ArrayList<>());

  /** A request's arrival: when ({@link System#nanoTime}) and its request line. */
  public record Arrival(long nanos, String line) {}
  private final Map<Fault, AtomicLong> injected = new EnumMap<>(Fault.class);
  private volatile boolean closed;

  private FaultProxy(URI upstream, FaultPlan plan, InetAddress bind) throws IOException {
    this.upstream = new InetSocketAddress(upstream.getHost(), upstream.getPort());
    this.plan = new AtomicReference<>(plan);
    for (Fault f : Fault.values()) {
      injected.put(f, new AtomicLong());
    }
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(bind, 0), 128);
    pool.execute(this::acceptLoop);
  }

  /** A proxy to {@code upstream} (an http:// endpoint) on a free port of 127.0.0.1. */
  public static FaultProxy start(URI upstream, FaultPlan plan) throws IOException {
    return new FaultProxy(upstream, plan, InetAddress.getLoopbackAddress());
  }

  /** The same, listening on {@code bind} (a simulation's private bridge) instead of 127.0.0.1. */
  public static FaultProxy start(URI upstream, FaultPlan plan, InetAddress bind) throws IOException {
    return new FaultProxy(upstream, plan, bind);
  }

  /** Where clients connect: http://ADDRESS:PORT (127.0.0.1 unless bound elsewhere). */
  public URI endpoint() {
    return URI.create("http://" + server.getInetAddress().getHostAddress() + ":" + server.getLocalPort());
  }

  /** Applies {@code p} to the requests that arrive from now on. */
  public void plan(FaultPlan p) {
    plan.set(p);
  }

  /** Requests received so far. */
  public long requests() {
    return requests.get();
  }

  /** Requests so far whose request line ("GET /bucket/key?… HTTP/1.1") contains {@code part}. */
  public long requests(String part) {
    return byLine.entrySet().stream().filter(e -> e.getKey().contains(part)).mapToLong(e -> e.getValue().get()).sum();
  }

  /** When each request so far whose request line contains {@code part} arrived, in order. */
  public List<Arrival> arrivals(String part) {
    synchronized (arrivals) {
      return arrivals.stream().filter(a -> a.line().contains(part)).toList();
    }
  }

  /** Faults injected so far, by kind. */
  public Map<Fault, Long> injected() {
    Map<Fault, Long> m = new EnumMap<>(Fault.class);
    injected.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    pool.shutdownNow();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        pool.execute(() -> serve(client));
      } catch (IOException e) {
        if (!closed) {
          continue;
        }
        return;
      }
    }
  }

  private void serve(Socket client) {
    try (client) {
      InputStream in = new BufferedInputStream(client.getInputStream());
      OutputStream out = client.getOutputStream();
      List<String> head = readHead(in);
      if (head == null) {
        return;
      }
      requests.incrementAndGet();
      String requestLine = head.get(0);
      byLine.computeIfAbsent(requestLine, k -> new AtomicLong()).incrementAndGet();
      arrivals.add(new Arrival(System.nanoTime(), requestLine));
      String method = requestLine.split(" ", 2)[0];
      List<String> headers = new ArrayList<>();
      long length = 0;
      String range = "";
      for (String h : head.subList(1, head.size())) {
        String name = h.substring(0, Math.max(0, h.indexOf(':'))).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(h.indexOf(':') + 1).trim();
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> {
            answer(out, 501, "NotImplemented", "the fault proxy takes no chunked request bodies");
            return;
          }
          case "expect" -> {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            continue; // answered here; not forwarded
          }
          case "connection" -> {
            continue; // replaced below
          }
          case "range" -> range = value;
          default -> { }
        }
        headers.add(h);
      }
      headers.add("Connection: close");
      byte[] body = in.readNBytes((int) length);
      if (body.length < length) {
        return;
      }
      FaultPlan p = plan.get();
      Fault fault = draw(p, method, requestLine + " " + range);
      if (fault != null) {
        injected.get(fault).incrementAndGet();
      }
      if (fault == Fault.SLOW_DOWN_503) {
        answer(out, 503, "SlowDown", "Please reduce your request rate.");
        return;
      }
      if (fault == Fault.ERROR_500) {
        answer(out, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
      }
      if (fault == Fault.LATENCY) {
        Thread.sleep(p.latencyMillis());
      }
      forward(client, out, requestLine, headers, body, fault, p);
    } catch (IOException | RuntimeException e) {
      // a client or the server went away: nothing to relay any more
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void forward(Socket client, OutputStream out, String requestLine, List<String> headers, byte[] body,
                       Fault fault, FaultPlan p) throws IOException, InterruptedException {
    try (Socket up = new Socket()) {
      up.connect(upstream, 10_000);
      OutputStream upOut = up.getOutputStream();
      StringBuilder req = new StringBuilder(requestLine).append("\r\n");
      headers.forEach(h -> req.append(h).append("\r\n"));
      req.append("\r\n");
      upOut.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      upOut.write(body);
      upOut.flush();
      InputStream upIn = new BufferedInputStream(up.getInputStream());
      List<String> respHead = readHead(upIn);
      if (respHead == null) {
        return;
      }
      long length = -1;
      for (String h : respHead.subList(1, respHead.size())) {
        if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
          length = Long.parseLong(h.substring(h.indexOf(':') + 1).trim());
        }
      }
      StringBuilder head = new StringBuilder();
      respHead.forEach(h -> head.append(h).append("\r\n"));
      head.append("\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      String status = respHead.get(0).split(" ")[1];
      boolean midBody = (fault == Fault.RESET_MID_BODY || fault == Fault.STALL_BODY || fault == Fault.TRUNCATE
          || fault == Fault.CORRUPT) && status.startsWith("2") && length > 1;
      if (!midBody) {
        upIn.transferTo(out);
        out.flush();
        return;
      }
      out.write(upIn.readNBytes((int) Math.min(length / 2, Integer.MAX_VALUE - 8)));
      if (fault == Fault.CORRUPT) {
        int b = upIn.read();
        out.write(b ^ 0x20);
        upIn.transferTo(out);
        out.flush();
        return;
      }
      out.flush();
      switch (fault) {
        case RESET_MID_BODY -> client.setSoLinger(true, 0); // close() now sends RST
        case STALL_BODY -> Thread.sleep(p.stallMillis());
        default -> { } // TRUNCATE: a clean close, short of Content-Length
      }
    }
  }

  /** The fault for this request, or null. */
  private Fault draw(FaultPlan p, String method, String request) {
    if (p.rules().isEmpty()) {
      return null;
    }
    int n = seen.computeIfAbsent(request, k -> new AtomicInteger()).getAndIncrement();
    double u = new SplittableRandom(p.seed() * 0x9E3779B97F4A7C15L + request.hashCode() * 31L + n).nextDouble();
    double acc = 0;
    for (Rule r : p.rules()) {
      if (r.method().equals("*") || r.method().equalsIgnoreCase(method)) {
        acc += r.probability();
        if (u < acc) {
          return r.fault() == Fault.CORRUPT && n > 0 ? null : r.fault();
        }
      }
    }
    return null;
  }

  private static void answer(OutputStream out, int status, String code, String message) throws IOException {
    byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" + message
        + "</Message><RequestId>fault-proxy</RequestId></Error>").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " " + code + "\r\nContent-Type: application/xml\r\nContent-Length: "
        + body.length + "\r\nConnection: close\r\n\r\n";
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
  }

  /** The lines of a request or response head, or null at the end of the stream before one began. */
  private static List<String> readHead(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        if (buf.size() == 0) {
          return null;
        }
        throw new EOFException("the head ended early");
      }
      buf.write(b);
      matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ? matched + 1
          : b == '\r' ? 1 : 0;
      if (buf.size() > MAX_HEAD) {
        throw new IOException("head over " + MAX_HEAD + " bytes");
      }
    }
    String text = buf.toString(StandardCharsets.ISO_8859_1);
    return new ArrayList<>(List.of(text.substring(0, text.length() - 4).split("\r\n")));
  }
}
