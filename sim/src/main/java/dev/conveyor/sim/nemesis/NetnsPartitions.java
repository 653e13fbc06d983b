package dev.conveyor.sim.nemesis;

/** Partitions through network namespaces, where the machine has them. */
public final class NetnsPartitions {
  private NetnsPartitions() {}

  public static Partitions forThisMachine() {
    return Partitions.unavailable("network partitions are not applied on this machine");
  }
}
