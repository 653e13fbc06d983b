package dev.conveyor.sim.run;

import dev.conveyor.sim.nemesis.Partitions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Each node in a network namespace of its own, joined to the simulation by a veth pair on a
 * private bridge (10.231.K.0/24, K from this process's id so that simulations side by side do
 * not meet; no route leads off the machine). A partition sets the node's end of the pair on the
 * bridge down: it can reach no other node and not S3, and none can reach it; healing sets it up.
 * Needs root and iproute2's {@code ip}; {@link #create} says why not where they are missing.
 */
public final class Netns implements Network {
  private final int k;
  private final int nodes;
  private ExitHook exitHook;
  private final String bridge;
  private final Set<Integer> cut = new HashSet<>();
  private final Partitions partitions = new Partitions() {
    @Override
    public String cut(int n) throws Exception {
      ip("link", "set", veth(n), "down");
      synchronized (cut) {
        cut.add(n);
      }
      return null;
    }

    @Override
    public String heal(int n) throws Exception {
      List<Integer> which;
      synchronized (cut) {
        which = n == 0 ? new ArrayList<>(cut) : cut.contains(n) ? List.of(n) : List.of();
        cut.removeAll(which);
      }
      if (which.isEmpty()) {
        return n == 0 ? "no node is cut off" : "node " + n + " is not cut off";
      }
      for (int m : which) {
        ip("link", "set", veth(m), "up");
      }
      return null;
    }
  };

  private Netns(int k, int nodes) {
    this.k = k;
    this.nodes = nodes;
    this.bridge = "cvb" + k;
  }

  /** Namespaces for {@code nodes} nodes, or why this machine cannot make them. */
  public static Network create(int nodes, String orElseWhy) {
    Optional<String> why = unavailable();
    if (why.isPresent()) {
      return Network.loopback(orElseWhy + ": " + why.get());
    }
    Netns n = new Netns((int) (ProcessHandle.current().pid() % 250) + 1, nodes);
    try {
      n.build();
      n.exitHook = new ExitHook("conveyor-sim-netns", n::delete); // stopped before it closed them: deleted anyway
      return n;
    } catch (IOException | RuntimeException e) {
      n.close();
      return Network.loopback(orElseWhy + ": making network namespaces failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      n.close();
      return Network.loopback(orElseWhy + ": interrupted");
    }
  }

  /** Why namespaces cannot be made here, if they cannot. */
  static Optional<String> unavailable() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return Optional.of("network namespaces need root (this is " + System.getProperty("user.name") + ")");
    }
    try {
      run(List.of("ip", "netns", "list"));
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("iproute2's ip is missing or refuses namespaces (" + e.getMessage() + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    }
  }

  private void build() throws IOException, InterruptedException {
    close(); // what a killed simulation with this K left behind
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", simAddress() + "/24", "dev", bridge);
    ip("link", "set", bridge, "up");
    for (int n = 1; n <= nodes; n++) {
      String ns = ns(n);
      String peer = "cv" + k + "p" + n;
      ip("netns", "add", ns);
      ip("link", "add", veth(n), "type", "veth", "peer", "name", peer);
      ip("link", "set", peer, "netns", ns);
      ip("link", "set", veth(n), "master", bridge, "up");
      ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
      ip("netns", "exec", ns, "ip", "addr", "add", address(n) + "/24", "dev", peer);
      ip("netns", "exec", ns, "ip", "link", "set", peer, "up");
      ip("netns", "exec", ns, "ip", "route", "add", "default", "via", simAddress());
    }
  }

  private String ns(int n) {
    return "cv" + k + "n" + n;
  }

  private String veth(int n) {
    return "cv" + k + "v" + n;
  }

  @Override
  public String address(int n) {
    return "10.231." + k + "." + (n + 1);
  }

  @Override
  public List<String> prefix(int n) {
    return List.of("ip", "netns", "exec", ns(n));
  }

  @Override
  public String simAddress() {
    return "10.231." + k + ".1";
  }

  @Override
  public Partitions partitions() {
    return partitions;
  }

  /** Removes the namespaces (and their veth pairs with them) and the bridge; what is not there is skipped. */
  @Override
  public void close() {
    if (exitHook != null) {
      exitHook.cancel();
    }
    delete();
  }

  private void delete() {
    for (int n = 1; n <= nodes; n++) {
      quietly("netns", "del", ns(n));
    }
    quietly("link", "del", bridge);
  }

  private static void quietly(String... args) {
    try {
      ip(args);
    } catch (IOException e) {
      // not there
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void ip(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    run(cmd);
  }

  private static void run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + ": no answer in 10 s");
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + ": " + out);
    }
  }
}
