package dev.conveyor.sim.run;

import dev.conveyor.sim.nemesis.Partitions;
import java.util.List;

/**
 * Where a simulation's nodes live on the network: all on 127.0.0.1 ({@link #loopback}), or each
 * in a network namespace of its own on a private bridge ({@link Netns}), which is what lets the
 * nemesis cut one off. The simulation's own servers (the S3 proxy) and the job's client listen
 * on {@link #simAddress}.
 */
public interface Network extends AutoCloseable {
  /** The address node {@code n} listens on. */
  String address(int n);

  /** What runs a command in node {@code n}'s place (empty: here). */
  List<String> prefix(int n);

  /** The address the proxy and the job's client listen on, which every node reaches. */
  String simAddress();

  /** Cuts and heals nodes, or says why it cannot. */
  Partitions partitions();

  @Override
  void close();

  /** Every node on 127.0.0.1; partitions refused with {@code why}. */
  static Network loopback(String why) {
    Partitions none = Partitions.unavailable(why);
    return new Network() {
      @Override
      public String address(int n) {
        return "127.0.0.1";
      }

      @Override
      public List<String> prefix(int n) {
        return List.of();
      }

      @Override
      public String simAddress() {
        return "127.0.0.1";
      }

      @Override
      public Partitions partitions() {
        return none;
      }

      @Override
      public void close() {}
    };
  }
}
