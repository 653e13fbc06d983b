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

  /**
   * A copy of the member's store whose certificate the CA signed again for {@code validity} days
   * from {@code startdate} (keytool's form: {@code -10d}, {@code +10d}).
   */
  static Path resigned(String name, String startdate, int validity) throws Exception {
    Path store = dir.resolve(name + ".p12");
    Files.copy(dir.resolve("node.p12"), store);
    Path csr = dir.resolve(name + ".csr");
    Path cert = dir.resolve(name + ".pem");
    keytool("-certreq", "-alias", "node", "-file", csr.toString(), "-keystore", store.toString());
    keytool("-gencert", "-alias", "ca", "-infile", csr.toString(), "-outfile", cert.toString(), "-rfc",
        "-startdate", startdate, "-validity", Integer.toString(validity), "-sigalg", "SHA256withECDSA",
        "-ext", "EKU=serverAuth,clientAuth", "-keystore", dir.resolve("ca.p12").toString());
    keytool("-importcert", "-alias", "node", "-file", cert.toString(), "-noprompt", "-keystore", store.toString());
    return store;
  }

  static void keytool(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("-storepass", PASSWORD, "-storetype", "PKCS12"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("keytool %s: %s", args[0], out).isZero();
  }

  @Test
  void aCertificateNotValidNowIsRefusedAtStartUpNamingItsDates() throws Exception {
    for (Path store : List.of(resigned("expired", "-10d", 1), resigned("future", "+10d", 30))) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        ks.load(in, PASSWORD.toCharArray());
      }
      X509Certificate cert = (X509Certificate) ks.getCertificate("node");
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
