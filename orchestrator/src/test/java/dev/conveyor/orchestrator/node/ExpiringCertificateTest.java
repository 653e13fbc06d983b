package dev.conveyor.orchestrator.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.orchestrator.security.Certificates;
import dev.conveyor.orchestrator.security.Resigned;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member whose certificate expires while the cluster runs is refused at its next handshake: a
 * node with TLS (its own settings, stores from `conveyor certs`) takes a short-lived member
 * certificate while it is valid and refuses the same certificate once its end has passed — so a
 * peer presenting an expired certificate never gets a connection, and so never joins. (A node
 * refuses to start with one: CertificatesTest.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExpiringCertificateTest {
  static final String PASSWORD = "pw-ExpiringCertificateTest-5";
  Path dir;
  ActorSystem<Void> node;

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    dir = tmp;
    Certificates certs = new Certificates(dir, PASSWORD, 2, step -> { });
    certs.newCa("expiry-ca", List.of());
    certs.member("node", certs.ca(Optional.empty()));
    certs.member("peer", certs.ca(Optional.empty()));
    Config stores = ConfigFactory.parseString("conveyor.tls { enabled = true, key-store = \"" + dir.resolve("node.p12")
            + "\", trust-store = \"" + dir.resolve("truststore.p12") + "\" }")
        .withValue("conveyor.tls.key-store-password", ConfigValueFactory.fromAnyRef(PASSWORD))
        .withValue("conveyor.tls.trust-store-password", ConfigValueFactory.fromAnyRef(PASSWORD))
        .withFallback(ConfigFactory.load());
    node = RemotingFramesTest.node(stores);
  }

  @AfterAll
  void stop() {
    node.terminate();
  }

  /** Whether the node takes a connection presenting {@code store}: its handshake passes and the connection stays open. */
  boolean taken(Path store) throws Exception {
    try (SSLSocket s = RemotingFramesTest.connect(RemotingFramesTest.port(node), store, dir.resolve("truststore.p12"),
        PASSWORD)) {
      // in TLS 1.3 the client's certificate is judged after the client has finished: a refusal
      // comes as an alert on the first read
      return !RemotingFramesTest.closedAfter(s, RemotingFramesTest.frame(1024), 2);
    } catch (SSLException refused) {
      return false;
    }
  }

  @Test
  void aCertificateThatExpiresWhileTheNodeRunsIsTakenUntilItsEndAndRefusedAfter() throws Exception {
    Path store = Resigned.store(dir, PASSWORD, "peer.p12", "peer", "short", "-1d+15S", 1); // valid for 15 s more
    X509Certificate cert = Resigned.certificate(store, PASSWORD, "peer");
    Instant end = cert.getNotAfter().toInstant();
    assertThat(Duration.between(Instant.now(), end)).as("time left to try it while valid").isGreaterThan(Duration.ofSeconds(5));
    assertThat(taken(store)).as("a member's certificate valid until " + end + " is taken now").isTrue();
    while (Instant.now().isBefore(end.plusSeconds(1))) { // the clock passes the certificate's end
      Thread.sleep(Math.max(1, Duration.between(Instant.now(), end.plusSeconds(1)).toMillis()));
    }
    assertThat(taken(store)).as("the same certificate, expired at " + end).isFalse();
    assertThat(taken(dir.resolve("peer.p12"))).as("a valid member's still is").isTrue();
  }
}
