package dev.conveyor.orchestrator.node;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.TlsSettings;
import dev.conveyor.orchestrator.security.Certificates;
import dev.conveyor.orchestrator.security.TlsRemoting;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import dev.conveyor.config.Membership;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What reaches a node's remoting port from a process that is not a member. With TLS (the node's
 * own Pekko settings, stores from `conveyor certs`): a crafted frame claiming up to 2 GiB is
 * refused in the handshake — the connection closed at once, nothing of that size allocated — and
 * the node goes on. Without TLS: the claim alone allocates nothing either, but Pekko's framing
 * waits for the bytes (it does not check maximum-frame-size on the way in), which is why plain
 * TCP is refused beyond loopback unless allowed. A member past the handshake (its certificate
 * signed by the cluster's CA) whose frame claims more than the bound is refused as the length
 * arrives (FrameBoundEngine; Pekko's framing would wait for the bytes and hold them), and the
 * node goes on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RemotingFramesTest {
  static final String PASSWORD = "pw-RemotingFramesTest-8";
  ActorSystem<Void> tls;
  ActorSystem<Void> plain;
  Path member; // where peer.p12 and truststore.p12 are: a member's stores, signed by the cluster's CA

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Certificates certs = new Certificates(dir, PASSWORD, 2, step -> { });
    certs.newCa("frames-ca", List.of());
    certs.member("node", certs.ca(Optional.empty()));
    certs.member("peer", certs.ca(Optional.empty()));
    member = dir;
    Config stores = ConfigFactory.parseString("conveyor.tls { enabled = true, key-store = \"" + dir.resolve("node.p12")
            + "\", trust-store = \"" + dir.resolve("truststore.p12") + "\" }")
        .withValue("conveyor.tls.key-store-password", ConfigValueFactory.fromAnyRef(PASSWORD))
        .withValue("conveyor.tls.trust-store-password", ConfigValueFactory.fromAnyRef(PASSWORD))
        .withFallback(ConfigFactory.load());
    tls = node(stores);
    plain = node(ConfigFactory.load());
  }

  static ActorSystem<Void> node(Config base) {
    return ActorSystem.create(Behaviors.empty(), ClusterNode.SYSTEM, ClusterNode.pekko("127.0.0.1", 0, List.of(),
        List.of("node"), 7000, Membership.SEEDED, base));
  }

  static int port(ActorSystem<?> node) {
    return (Integer) Adapter.toClassic(node).provider().getDefaultAddress().port().get();
  }

  @AfterAll
  void stop() {
    tls.terminate();
    plain.terminate();
  }

  /** Artery's TCP stream header (magic, ordinary-message stream), then one frame's length field (little-endian). */
  static byte[] frame(int claimedLength) {
    ByteBuffer b = ByteBuffer.allocate(4 + 1 + 4 + 1024).order(ByteOrder.LITTLE_ENDIAN);
    b.put("AKKA".getBytes(StandardCharsets.US_ASCII)).put((byte) 2).putInt(claimedLength);
    return b.array();
  }

  /** Sends {@code bytes} to {@code port}; true when the node closes the connection within {@code seconds}. */
  static boolean closedAfter(int port, byte[] bytes, int seconds) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(seconds * 1000);
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
      InputStream in = s.getInputStream();
      try {
        while (in.read() >= 0) {
          // whatever it answers, until it closes
        }
        return true;
      } catch (java.net.SocketException reset) {
        return true;
      } catch (SocketTimeoutException open) {
        return false;
      }
    }
  }

  /** Bytes allocated by every thread of this JVM (the nodes' included) while {@code r} runs. */
  static long allocatedDuring(ThrowingRunnable r) throws Exception {
    com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = sum(t);
    r.run();
    return sum(t) - before;
  }

  private static long sum(com.sun.management.ThreadMXBean t) {
    long total = 0;
    for (long a : t.getThreadAllocatedBytes(t.getAllThreadIds())) {
      total += Math.max(0, a);
    }
    return total;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  static final int[] CLAIMS = {Integer.MAX_VALUE - 8, ClusterNode.MAX_FRAME_BYTES + 1};

  @Test
  void withTlsACraftedFrameIsRefusedAtOnceWithoutAllocatingWhatItClaimsAndTheNodeGoesOn() throws Exception {
    for (int claimed : CLAIMS) {
      boolean[] closed = new boolean[1];
      long allocated = allocatedDuring(() -> closed[0] = closedAfter(port(tls), frame(claimed), 5));
      assertThat(closed[0]).as("a frame claiming " + claimed + " bytes: connection closed within 5 s").isTrue();
      assertThat(allocated).as("bytes allocated while refusing a frame claiming " + claimed).isLessThan(64L << 20);
    }
    assertThat(closedAfter(port(tls), "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 5)).isTrue();
    assertThat(tls.whenTerminated().isCompleted()).isFalse();
    try (Socket again = new Socket("127.0.0.1", port(tls))) {
      assertThat(again.isConnected()).as("the node still accepts connections").isTrue();
    }
  }

  /** A TLS connection to {@code port} as a member of the cluster, its handshake done. */
  SSLSocket asMember(int port) throws Exception {
    return connect(port, member.resolve("peer.p12"), member.resolve("truststore.p12"), PASSWORD);
  }

  /** A TLS connection to {@code port} presenting {@code keyStore}'s certificate, its handshake done (as the client sees it). */
  static SSLSocket connect(int port, Path keyStore, Path trustStore, String password) throws Exception {
    char[] pw = password.toCharArray();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      keys.load(in, pw);
    }
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(trustStore)) {
      trust.load(in, pw);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, pw);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
    s.setSoTimeout(5000);
    s.startHandshake();
    return s;
  }

  /** Sends {@code bytes} on {@code s}; true when the node closes the connection within 5 s, false when it waits. */
  static boolean closedAfter(SSLSocket s, byte[] bytes) throws Exception {
    return closedAfter(s, bytes, 5);
  }

  /** Sends {@code bytes} on {@code s}; true when the node closes the connection within {@code seconds}. */
  static boolean closedAfter(SSLSocket s, byte[] bytes, int seconds) throws Exception {
    try {
      s.getOutputStream().write(bytes);
      s.getOutputStream().flush();
      s.setSoTimeout(seconds * 1000);
      while (s.getInputStream().read() >= 0) {
        // whatever it answers, until it closes
      }
      return true;
    } catch (java.net.SocketException closedWhileWriting) {
      return true;
    } catch (SocketTimeoutException open) {
      return false;
    }
  }

  @Test
  void withTlsAnAuthenticatedMembersFrameClaimingPastTheBoundIsRefusedAtOnceAllocatingNothingOfIt() throws Exception {
    for (int claimed : CLAIMS) {
      boolean[] closed = new boolean[1];
      long allocated = allocatedDuring(() -> {
        try (SSLSocket s = asMember(port(tls))) {
          // the handshake passed: these bytes reach the node's framing, not just its TLS
          assertThat(s.getSession().getPeerCertificates()).isNotEmpty();
          closed[0] = closedAfter(s, frame(claimed));
        }
      });
      assertThat(closed[0]).as("a member's frame claiming " + claimed + " bytes: connection closed within 5 s").isTrue();
      assertThat(allocated).as("bytes allocated while refusing a member's frame claiming " + claimed).isLessThan(64L << 20);
    }
    // a frame within the bound is framing, not refused: the connection stays open for what follows
    try (SSLSocket s = asMember(port(tls))) {
      assertThat(closedAfter(s, frame(1024))).as("a frame of 1 KiB: the connection stays open").isFalse();
    }
    assertThat(tls.whenTerminated().isCompleted()).isFalse();
    try (SSLSocket again = asMember(port(tls))) {
      assertThat(again.getSession().isValid()).as("the node still takes a member's handshake").isTrue();
    }
  }

  @Test
  void withoutTlsTheClaimAloneAllocatesNothingAndTheNodeGoesOn() throws Exception {
    for (int claimed : CLAIMS) {
      long allocated = allocatedDuring(() -> closedAfter(port(plain), frame(claimed), 1));
      assertThat(allocated).as("bytes allocated after a frame claiming " + claimed).isLessThan(64L << 20);
    }
    assertThat(plain.whenTerminated().isCompleted()).isFalse();
  }

  @Test
  void plainTcpBeyondLoopbackIsRefusedUnlessAllowed() {
    TlsSettings off = TlsSettings.fromConfig(ConfigFactory.defaultReference());
    TlsRemoting.plainOnlyOnLoopback(off, "127.0.0.1");
    TlsRemoting.plainOnlyOnLoopback(off, "localhost");
    assertThatThrownBy(() -> TlsRemoting.plainOnlyOnLoopback(off, "0.0.0.0"))
        .isInstanceOf(SettingsException.class).hasMessageContaining("conveyor.tls.enabled")
        .hasMessageContaining("allow-plain-tcp");
    assertThatThrownBy(() -> TlsRemoting.plainOnlyOnLoopback(off, "10.1.2.3")).isInstanceOf(SettingsException.class);
    TlsSettings allowed = TlsSettings.fromConfig(ConfigFactory.parseString("conveyor.tls.allow-plain-tcp = true")
        .withFallback(ConfigFactory.defaultReference()));
    TlsRemoting.plainOnlyOnLoopback(allowed, "10.1.2.3");
  }
}
