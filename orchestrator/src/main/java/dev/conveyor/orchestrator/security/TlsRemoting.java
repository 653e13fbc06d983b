package dev.conveyor.orchestrator.security;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.TlsSettings;
import java.util.List;

/** What {@code conveyor.tls} makes of a member's remoting: Pekko's TLS settings, and where plain TCP may listen. */
public final class TlsRemoting {
  private TlsRemoting() {}

  /**
   * {@code pekko} with the remoting {@code base}'s {@code conveyor.tls} asks for, a member
   * listening on {@code bind}: TLS when on ({@link #pekko}), refused when plain beyond loopback
   * and not allowed ({@link #plainOnlyOnLoopback}); and the configuration, which then holds the
   * stores' passwords and the HTTP token, never logged whole.
   */
  public static Config over(Config pekko, Config base, String bind) {
    Config c = pekko.withValue("pekko.log-config-on-start", ConfigValueFactory.fromAnyRef(false));
    if (!base.hasPath(TlsSettings.PATH)) {
      return c; // no conveyor settings at all (a bare test config): nothing to secure
    }
    TlsSettings tls = TlsSettings.fromConfig(base);
    plainOnlyOnLoopback(tls, bind);
    return pekko(tls).withFallback(c);
  }

  /**
   * Refuses plain TCP remoting on an address other processes can reach, unless allowed: any
   * process that reaches the port could join the cluster and be handed data, and Pekko's TCP
   * framing buffers whatever length a frame claims. With TLS only a member whose certificate the
   * CA signed gets past the handshake.
   */
  public static void plainOnlyOnLoopback(TlsSettings tls, String bind) {
    if (tls.enabled() || tls.allowPlainTcp() || loopback(bind)) {
      return;
    }
    throw new SettingsException(TlsSettings.PATH + ".enabled", "is false while remoting listens on " + bind
        + ", beyond this machine: any process that reaches it could join the cluster and be handed data. Turn TLS on"
        + " (bin/conveyor certs --out DIR; docs/operators.md \"Security\"), or on a network only you can reach set "
        + TlsSettings.PATH + ".allow-plain-tcp = true (" + TlsSettings.ALLOW_PLAIN_TCP + "=true)");
  }

  private static boolean loopback(String host) {
    try {
      for (java.net.InetAddress a : java.net.InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (java.net.UnknownHostException e) {
      return false; // a name that does not resolve yet (a pod's) is not this machine's loopback
    }
  }

  /**
   * Remoting over TLS 1.3 with mutual authentication when {@code tls} is on (Pekko's
   * ConfigSSLEngineProvider: a peer must present a certificate signed by a CA of the trust store,
   * in both directions; host names are not checked, since pods come and go under new addresses and
   * the CA is the cluster's own), a frame past the maximum frame size refused as it arrives
   * ({@link BoundedFramesEngineProvider}). Empty when off.
   */
  public static Config pekko(TlsSettings tls) {
    if (!tls.enabled()) {
      return ConfigFactory.empty();
    }
    String p = "pekko.remote.artery.ssl.config-ssl-engine.";
    return ConfigFactory.empty()
        .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tls-tcp"))
        .withValue("pekko.remote.artery.ssl.ssl-engine-provider",
            ConfigValueFactory.fromAnyRef(BoundedFramesEngineProvider.class.getName()))
        .withValue(p + "key-store", ConfigValueFactory.fromAnyRef(tls.keyStore().toAbsolutePath().toString()))
        .withValue(p + "key-store-password", ConfigValueFactory.fromAnyRef(tls.keyStorePassword()))
        .withValue(p + "key-password", ConfigValueFactory.fromAnyRef(tls.keyStorePassword()))
        .withValue(p + "trust-store", ConfigValueFactory.fromAnyRef(tls.trustStore().toAbsolutePath().toString()))
        .withValue(p + "trust-store-password", ConfigValueFactory.fromAnyRef(tls.trustStorePassword()))
        .withValue(p + "protocol", ConfigValueFactory.fromAnyRef("TLSv1.3"))
        .withValue(p + "enabled-algorithms", ConfigValueFactory.fromIterable(List.of("TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384")))
        .withValue(p + "require-mutual-authentication", ConfigValueFactory.fromAnyRef(true))
        .withValue(p + "hostname-verification", ConfigValueFactory.fromAnyRef(false));
  }
}
