package dev.conveyor.orchestrator.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A cluster's certificates for TLS between members, made with the JDK's keytool (the steps docs/operators.md,
 * "Security" lists): a CA (EC P-256, self-signed), a trust store holding its certificate, and a
 * key store per member name whose certificate the CA signed (usable as TLS server and client, the
 * name as its DNS subject alternative name). Every store is PKCS12 under one password, handed to
 * keytool through its environment ({@code -storepass:env}), never on a command line.
 */
public final class Certificates {
  /** The environment variable keytool reads the stores' password from. */
  private static final String PASSWORD_VAR = "CONVEYOR_CERTS_PASSWORD";
  public static final String CA = "ca.p12";
  public static final String CA_PEM = "ca.pem";
  public static final String TRUST_STORE = "truststore.p12";
  public static final String PASSWORD_FILE = "password";

  private final Path dir;
  private final String password;
  private final int days;
  private final Consumer<String> progress;

  /**
   * Certificates in {@code dir}, valid {@code days}, their stores under {@code password}; each
   * step is told to {@code progress}.
   */
  public Certificates(Path dir, String password, int days, Consumer<String> progress) {
    if (password.length() < 6) {
      throw new IllegalArgumentException("the stores' password must have at least 6 characters (keytool's rule)");
    }
    if (days < 1) {
      throw new IllegalArgumentException("--days must be at least 1, got " + days);
    }
    this.dir = dir;
    this.password = password;
    this.days = days;
    this.progress = progress;
  }

  /** A new random password (24 bytes, base64url): what {@code certs} uses when none is given. */
  public static String randomPassword() {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** Writes {@code password} to {@code dir/password}, readable by its owner only. */
  public Path writePassword() throws IOException {
    Path f = dir.resolve(PASSWORD_FILE);
    Files.deleteIfExists(f);
    Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(f, password + "\n", StandardCharsets.UTF_8);
    return f;
  }

  /**
   * A new CA in {@code dir/ca.p12} (alias {@code ca}) and {@code dir/ca.pem}, and the trust store
   * {@code dir/truststore.p12} holding it and the certificates of {@code alsoTrusted} (PEM files:
   * the old CA while certificates rotate).
   */
  public void newCa(String name, List<Path> alsoTrusted) throws IOException, InterruptedException {
    keytool("make the CA " + name, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1",
        "-sigalg", "SHA256withECDSA", "-dname", "CN=" + name, "-ext", "bc:c", "-ext", "KeyUsage:c=keyCertSign,cRLSign",
        "-validity", Integer.toString(days), "-keystore", store(CA));
    keytool("export the CA's certificate", "-exportcert", "-alias", "ca", "-rfc", "-file", dir.resolve(CA_PEM).toString(),
        "-keystore", store(CA));
    ownerOnly(dir.resolve(CA));
    trust("ca", dir.resolve(CA_PEM));
    int i = 1;
    for (Path pem : alsoTrusted) {
      trust("ca-" + i++, pem);
    }
  }

  private void trust(String alias, Path pem) throws IOException, InterruptedException {
    keytool("trust " + pem.getFileName(), "-importcert", "-alias", alias, "-file", pem.toString(), "-noprompt",
        "-keystore", store(TRUST_STORE));
  }

  /**
   * {@code dir/NAME.p12}: a key for {@code name} and its certificate signed by the CA in
   * {@code ca} (a {@code ca.p12} under the same password), with the CA's certificate for the chain.
   */
  public Path member(String name, Path ca) throws IOException, InterruptedException {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9.-]{0,62}")) {
      throw new IllegalArgumentException("a member name is a DNS label (letters, digits, '.', '-'), got \"" + name + "\"");
    }
    Path caPem = dir.resolve("signing-ca.pem");
    Path csr = dir.resolve(name + ".csr");
    Path signed = dir.resolve(name + ".pem");
    try {
      keytool("export the signing CA", "-exportcert", "-alias", "ca", "-rfc", "-file", caPem.toString(),
          "-keystore", ca.toString(), "-storetype", "PKCS12");
      keytool("make " + name + "'s key", "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
          "-sigalg", "SHA256withECDSA", "-dname", "CN=" + name, "-validity", Integer.toString(days),
          "-keystore", store(name + ".p12"));
      keytool("request " + name + "'s certificate", "-certreq", "-alias", name, "-file", csr.toString(),
          "-keystore", store(name + ".p12"));
      keytool("sign " + name + "'s certificate with the CA", "-gencert", "-alias", "ca", "-infile", csr.toString(),
          "-outfile", signed.toString(), "-rfc", "-validity", Integer.toString(days), "-sigalg", "SHA256withECDSA",
          "-ext", "KeyUsage:c=digitalSignature", "-ext", "ExtendedKeyUsage=serverAuth,clientAuth",
          "-ext", "SAN=dns:" + name, "-keystore", ca.toString(), "-storetype", "PKCS12");
      keytool("add the CA to " + name + "'s chain", "-importcert", "-alias", "ca", "-file", caPem.toString(), "-noprompt",
          "-keystore", store(name + ".p12"));
      keytool("store " + name + "'s signed certificate", "-importcert", "-alias", name, "-file", signed.toString(),
          "-keystore", store(name + ".p12"));
      ownerOnly(dir.resolve(name + ".p12"));
    } finally {
      Files.deleteIfExists(csr);
      Files.deleteIfExists(caPem);
    }
    return dir.resolve(name + ".p12");
  }

  /** A store with a private key: readable by its owner only. */
  private static void ownerOnly(Path store) throws IOException {
    Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rw-------"));
  }

  private String store(String file) {
    return dir.resolve(file).toString();
  }

  /** Runs keytool with {@code args}, the stores' password in its environment; fails with its output. */
  private void keytool(String step, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(keytool()));
    cmd.addAll(List.of(args));
    boolean store = cmd.contains("-keystore");
    if (store) {
      cmd.addAll(List.of("-storepass:env", PASSWORD_VAR));
      if (!cmd.contains("-storetype")) {
        cmd.addAll(List.of("-storetype", "PKCS12"));
      }
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put(PASSWORD_VAR, password);
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("keytool could not " + step + ": " + new String(out, StandardCharsets.UTF_8).strip());
    }
    progress.accept(step);
  }

  private static String keytool() {
    Path k = Path.of(System.getProperty("java.home"), "bin", "keytool");
    return Files.isExecutable(k) ? k.toString() : "keytool";
  }

  /** The CA to sign with: {@code given}, or the one made in {@code dir}. */
  public Path ca(Optional<Path> given) {
    return given.orElse(dir.resolve(CA));
  }
}
