package dev.conveyor.sim.run;

/**
 * What a simulation started outside itself (node processes, network namespaces) taken down when
 * its JVM is stopped (Ctrl-C, SIGTERM) before it could close them: a shutdown hook, cancelled
 * once they are closed the ordinary way.
 */
final class ExitHook {
  private final Thread thread;

  ExitHook(String name, Runnable onExit) {
    thread = new Thread(onExit, name);
    Runtime.getRuntime().addShutdownHook(thread);
  }

  /** Closed the ordinary way: nothing left for the hook. */
  void cancel() {
    try {
      Runtime.getRuntime().removeShutdownHook(thread);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs, and finds nothing left to do
    }
  }
}
