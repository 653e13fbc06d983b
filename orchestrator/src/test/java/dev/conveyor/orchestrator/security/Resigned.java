package dev.conveyor.orchestrator.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** Member stores whose certificates the CA signed again for other dates: certificates not valid now, or soon not. */
public final class Resigned {
  private Resigned() {}

  /**
   * A copy of {@code member} (a store of {@code dir}, key alias {@code alias}) as {@code name}.p12,
   * its certificate signed again by {@code dir/ca.p12} for {@code validity} days from {@code startdate}
   * (keytool's form: {@code -10d}, {@code +10d}, {@code -1d+20S}).
   */
  public static Path store(Path dir, String password, String member, String alias, String name, String startdate,
                           int validity) throws Exception {
    Path store = dir.resolve(name + ".p12");
    Files.copy(dir.resolve(member), store);
    Path csr = dir.resolve(name + ".csr");
    Path cert = dir.resolve(name + ".pem");
    keytool(password, "-certreq", "-alias", alias, "-file", csr.toString(), "-keystore", store.toString());
    keytool(password, "-gencert", "-alias", "ca", "-infile", csr.toString(), "-outfile", cert.toString(), "-rfc",
        "-startdate", startdate, "-validity", Integer.toString(validity), "-sigalg", "SHA256withECDSA",
        "-ext", "EKU=serverAuth,clientAuth", "-keystore", dir.resolve("ca.p12").toString());
    keytool(password, "-importcert", "-alias", alias, "-file", cert.toString(), "-noprompt", "-keystore", store.toString());
    return store;
  }

  /** The certificate under {@code alias} in {@code store}. */
  public static X509Certificate certificate(Path store, String password, String alias) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, password.toCharArray());
    }
    return (X509Certificate) ks.getCertificate(alias);
  }

  private static void keytool(String password, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("-storepass", password, "-storetype", "PKCS12"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("keytool %s: %s", args[0], out).isZero();
  }
}
