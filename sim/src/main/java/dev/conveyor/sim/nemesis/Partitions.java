package dev.conveyor.sim.nemesis;

/**
 * Cuts a node off the network and heals it. Where the machine cannot (not root, no network
 * namespaces), {@link #cut} says why, and the fault is recorded as not applied.
 */
public interface Partitions {
  /** Cuts node {@code n} off from every other node and from S3: null when done, else why not. */
  String cut(int n) throws Exception;

  /** Heals node {@code n} (every cut node when {@code n} is 0): null when done, else why not. */
  String heal(int n) throws Exception;

  /** Why partitions cannot be made here; empty where they can. */
  default String why() {
    return "";
  }

  /** No partitions on this run: each is refused with {@code why}. */
  static Partitions unavailable(String why) {
    return new Partitions() {
      @Override
      public String why() {
        return why;
      }

      @Override
      public String cut(int n) {
        return why;
      }

      @Override
      public String heal(int n) {
        return why;
      }
    };
  }
}
