package dev.conveyor.orchestrator.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.TlsSettings;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stores `conveyor certs` makes hold what TLS between members needs, and conveyor.tls reads
 * them: the member's certificate is signed by the CA and valid for both ends of a connection, the
 * private keys are owner-only, and a password is taken only from the environment and never
 * repeated in a message.
 */
class CertificatesTest {
  static final String PASSWORD = "pw-CertificatesTest-31337";

  @TempDir
  static Path dir;

  static List<String> steps = new ArrayList<>();

  @BeforeAll
  static void make() throws Exception {
    Certificates c = new Certificates(dir, PASSWORD, 30, steps::add);
    c.newCa("test-ca", List.of());
    c.member("node", c.ca(Optional.empty()));
    c.writePassword();
  }

  static KeyStore open(String file) throws Exception {
    try (InputStream in = Files.newInputStream(dir.resolve(file))) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASSWORD.toCharArray());
      return ks;
    }
  }

  @Test
  void theMembersCertificateIsSignedByTheCaForServerAndClientAndItsKeysAreOwnerOnly() throws Exception {
    X509Certificate ca = (X509Certificate) open("truststore.p12").getCertificate("ca");
    KeyStore node = open("node.p12");
    assertThat(node.isKeyEntry("node")).isTrue();
    X509Certificate cert = (X509Certificate) node.getCertificateChain("node")[0];
    cert.verify(ca.getPublicKey()); // throws unless the CA signed it
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=node");
    assertThat(cert.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"); // serverAuth, clientAuth
    assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0); // a CA
    for (String f : List.of("ca.p12", "node.p12", "password")) {
      assertThat(Files.getPosixFilePermissions(dir.resolve(f))).as(f)
          .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }
    assertThat(Files.readString(dir.resolve("password")).strip()).isEqualTo(PASSWORD);
    assertThat(String.join(" ", steps)).doesNotContain(PASSWORD);
  }

  /** conveyor.tls as a node would read it, its passwords set as the environment's substitution does. */
  static Config tls(String keyStorePassword) {
    return ConfigFactory.parseString("conveyor.tls { enabled = true, key-store = \"" + dir.resolve("node.p12")
            + "\", trust-store = \"" + dir.resolve("truststore.p12") + "\" }")
        .withValue("conveyor.tls.key-store-password", ConfigValueFactory.fromAnyRef(keyStorePassword))
        .withValue("conveyor.tls.trust-store-password", ConfigValueFactory.fromAnyRef(PASSWORD))
        .withFallback(ConfigFactory.defaultReference());
  }

  @Test
  void tlsSettingsOpenTheStoresAndNameTheCertificate() {
    TlsSettings t = TlsSettings.fromConfig(tls(PASSWORD));
    assertThat(t.enabled()).isTrue();
    assertThat(t.certificate()).startsWith("CN=node until ");
    assertThat(t.toString()).doesNotContain(PASSWORD);
  }

  @Test
  void aCertificateNotValidNowIsRefusedAtStartUpNamingItsDates() throws Exception {
    for (Path store : List.of(Resigned.store(dir, PASSWORD, "node.p12", "node", "expired", "-10d", 1),
        Resigned.store(dir, PASSWORD, "node.p12", "node", "future", "+10d", 30))) {
      X509Certificate cert = Resigned.certificate(store, PASSWORD, "node");
      Config config = ConfigFactory.parseString("conveyor.tls.key-store = \"" + store + "\"").withFallback(tls(PASSWORD));
      assertThatThrownBy(() -> TlsSettings.fromConfig(config)).as(store.getFileName().toString())
          .isInstanceOf(SettingsException.class)
          .hasMessageContaining("conveyor.tls.key-store").hasMessageContaining("CN=node")
          .hasMessageContaining("is not valid now (valid " + cert.getNotBefore().toInstant() + " to "
              + cert.getNotAfter().toInstant() + ")")
          .hasMessageNotContaining(PASSWORD);
    }
  }

  @Test
  void aWrongPasswordIsRefusedWithoutRepeatingIt() {
    assertThatThrownBy(() -> TlsSettings.fromConfig(tls("not-" + PASSWORD)))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("conveyor.tls.key-store").hasMessageContaining("CONVEYOR_TLS_KEY_STORE_PASSWORD")
        .hasMessageNotContaining(PASSWORD);
  }

  @Test
  void aPasswordOrTokenWrittenInAFileIsRefusedNamingTheVariableToUseInstead() throws Exception {
    Path conf = Files.writeString(dir.resolve("node.conf"), "conveyor.tls { enabled = true, key-store = \""
        + dir.resolve("node.p12") + "\", trust-store = \"" + dir.resolve("truststore.p12") + "\", key-store-password = \""
        + PASSWORD + "\", trust-store-password = \"" + PASSWORD + "\" }\nconveyor.node.http.token = \"tok-in-a-file\"\n");
    Config inFile = ConfigFactory.parseFile(conf.toFile()).withFallback(ConfigFactory.defaultReference()).resolve();
    assertThatThrownBy(() -> TlsSettings.fromConfig(inFile))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("conveyor.tls.key-store-password").hasMessageContaining("CONVEYOR_TLS_KEY_STORE_PASSWORD")
        .hasMessageContaining(conf.toString()).hasMessageNotContaining(PASSWORD);
    assertThatThrownBy(() -> NodeSettings.fromConfig(inFile))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("conveyor.node.http.token").hasMessageContaining("CONVEYOR_HTTP_TOKEN")
        .hasMessageNotContaining("tok-in-a-file");
    Config set = ConfigFactory.parseString("conveyor.node.http.token = tok-from-set").withFallback(ConfigFactory.defaultReference());
    assertThatThrownBy(() -> NodeSettings.httpToken(set)).isInstanceOf(SettingsException.class)
        .hasMessageNotContaining("tok-from-set");
  }

  @Test
  void byDefaultRemotingIsPlainAndHttpListensOnLoopbackWithoutAToken() {
    Config reference = ConfigFactory.defaultReference();
    assertThat(TlsSettings.fromConfig(reference).enabled()).isFalse();
    assertThat(NodeSettings.fromConfig(reference).httpHostname()).isEqualTo("127.0.0.1");
    assertThat(NodeSettings.httpToken(reference)).isEmpty();
  }
}
