package dev.conveyor.orchestrator.security;

import javax.net.ssl.SSLEngine;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider;

/**
 * Pekko's ConfigSSLEngineProvider (the stores, TLS 1.3, mutual authentication) whose server
 * engines refuse a remoting frame longer than {@code pekko.remote.artery.advanced.maximum-frame-size}
 * ({@link FrameBoundEngine}). Named in {@code pekko.remote.artery.ssl.ssl-engine-provider};
 * Pekko makes it with the actor system.
 */
public final class BoundedFramesEngineProvider extends ConfigSSLEngineProvider {
  private final int maxFrameBytes;

  public BoundedFramesEngineProvider(ActorSystem system) {
    super(system);
    this.maxFrameBytes = (int) system.settings().config().getBytes("pekko.remote.artery.advanced.maximum-frame-size")
        .longValue();
  }

  @Override
  public SSLEngine createServerSSLEngine(String hostname, int port) {
    return new FrameBoundEngine(super.createServerSSLEngine(hostname, port), maxFrameBytes);
  }
}
