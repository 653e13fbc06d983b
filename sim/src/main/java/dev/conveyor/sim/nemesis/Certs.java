package dev.conveyor.sim.nemesis;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.conveyor.config.TlsSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cluster's certificates when a scenario runs with TLS ({@code tls = true}): a CA and one
 * member store that every node and the job's client present, made with {@code conveyor certs} as
 * an operator makes them, under a password the processes take from their environment.
 * {@link #renew} signs a new member store with the same CA ({@code certs --ca}) and puts it where
 * the old one was, as an updated Kubernetes secret does: a running process keeps the certificate
 * it loaded, a node started again loads the new one.
 */
public final class Certs {
  /** The first certificates' days; a renewal's are {@value #RENEWED_DAYS}, so that the two are told apart. */
  static final int DAYS = 2;
  static final int RENEWED_DAYS = 30;

  private final List<String> conveyor;
  private final Path dir;
  private final String password;
  private int renewals;

  private Certs(List<String> conveyor, Path dir, String password) {
    this.conveyor = List.copyOf(conveyor);
    this.dir = dir;
    this.password = password;
  }

  /** Makes the CA and the member store in {@code dir} with {@code conveyor} (the command that runs the CLI). */
  public static Certs make(List<String> conveyor, Path dir) throws IOException, InterruptedException {
    byte[] b = new byte[18];
    new SecureRandom().nextBytes(b);
    Certs c = new Certs(conveyor, dir, HexFormat.of().formatHex(b));
    c.certs(dir, "--days", Integer.toString(DAYS));
    return c;
  }

  /** The stores' passwords, as every process of the cluster gets them. */
  public Map<String, String> env() {
    return Map.of(TlsSettings.KEY_STORE_PASSWORD, password, TlsSettings.TRUST_STORE_PASSWORD, password);
  }

  /** A node's conveyor.tls (HOCON). */
  public String settings() {
    return "conveyor.tls { enabled = true, key-store = \"" + store() + "\", trust-store = \"" + trustStore() + "\" }";
  }

  /** The job client's conveyor.tls, as {@code --set} flags. */
  public List<String> clientArgs() {
    return List.of("--set", "conveyor.tls.enabled=true", "--set", "conveyor.tls.key-store=" + store(),
        "--set", "conveyor.tls.trust-store=" + trustStore());
  }

  /** Signs a new member store with the CA and puts it in the old one's place; says what it holds now. */
  public String renew() throws IOException, InterruptedException {
    renewals++;
    Path next = dir.resolveSibling(dir.getFileName() + "-renewed-" + renewals);
    certs(next, "--ca", dir.resolve("ca.p12").toString(), "--days", Integer.toString(RENEWED_DAYS));
    Files.move(next.resolve("node.p12"), store(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return "the member store renewed: " + certificate();
  }

  /** The member store's certificate as a node's up line names it: "CN=node until INSTANT". */
  public String certificate() {
    Config c = ConfigFactory.parseString(settings())
        .withValue("conveyor.tls.key-store-password", ConfigValueFactory.fromAnyRef(password))
        .withValue("conveyor.tls.trust-store-password", ConfigValueFactory.fromAnyRef(password))
        .withFallback(ConfigFactory.defaultReference());
    return TlsSettings.fromConfig(c).certificate();
  }

  private Path store() {
    return dir.resolve("node.p12").toAbsolutePath();
  }

  private Path trustStore() {
    return dir.resolve("truststore.p12").toAbsolutePath();
  }

  /** Runs {@code conveyor certs --out OUT --names node MORE…} with the password in its environment. */
  private void certs(Path out, String... more) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(conveyor);
    cmd.addAll(List.of("certs", "--out", out.toString(), "--names", "node"));
    cmd.addAll(List.of(more));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env());
    Process p = pb.start();
    p.getOutputStream().close();
    String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("conveyor certs failed: " + said.strip());
    }
  }
}
