package dev.conveyor.cli;

import dev.conveyor.config.TlsSettings;
import dev.conveyor.orchestrator.security.Certificates;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code conveyor certs --out DIR}: a CA and the members' key stores for TLS between nodes. */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description = {
        "Makes what conveyor.tls needs: a CA, a trust store with its certificate and a key store per member name,",
        "signed by the CA (EC P-256, PKCS12, with the JDK's keytool). One password protects every store: the",
        "environment's " + TlsSettings.KEY_STORE_PASSWORD + " when set, else a new random one written to DIR/password",
        "(owner-only); it is never printed. With --ca, signs new member stores with an existing CA (renewal)."})
final class CertsCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write into (created; must hold no stores yet).")
  Path out;

  @Option(names = "--names", split = ",", paramLabel = "NAME", defaultValue = "node",
      description = "A key store per member name (default: one, node, shared by every member).")
  List<String> names = new ArrayList<>();

  @Option(names = "--days", defaultValue = "365", description = "How long the certificates are valid (default: ${DEFAULT-VALUE}).")
  int days;

  @Option(names = "--ca", paramLabel = "CA.p12", description = "Sign with this CA (its folder's password file, or the"
      + " environment's password, opens it) instead of making a new one.")
  Path ca;

  @Option(names = "--trust-also", paramLabel = "CA.pem", description = "Also trust these CA certificates (the old CA while rotating).")
  List<Path> trustAlso = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    if (days < 1) {
      throw new ConveyorCli.UsageException("--days must be at least 1, got " + days);
    }
    for (String n : names) {
      if (Files.exists(out.resolve(n + ".p12"))) {
        throw new ConveyorCli.UsageException(out.resolve(n + ".p12") + " exists: give another --out (certs never overwrites a store)");
      }
    }
    if (ca == null && Files.exists(out.resolve(Certificates.CA))) {
      throw new ConveyorCli.UsageException(out.resolve(Certificates.CA) + " exists: sign with it (--ca " + out.resolve(Certificates.CA)
          + ") or give another --out");
    }
    if (ca != null && !Files.isRegularFile(ca)) {
      throw new ConveyorCli.UsageException("--ca " + ca + " does not exist");
    }
    for (Path p : trustAlso) {
      if (!Files.isRegularFile(p)) {
        throw new ConveyorCli.UsageException("--trust-also " + p + " does not exist");
      }
    }
    Files.createDirectories(out);
    Optional<String> given = Optional.ofNullable(System.getenv(TlsSettings.KEY_STORE_PASSWORD)).filter(s -> !s.isEmpty())
        .or(() -> Optional.ofNullable(ca).map(c -> c.toAbsolutePath().getParent().resolve(Certificates.PASSWORD_FILE))
            .filter(Files::isReadable).map(CertsCommand::read));
    Certificates certs = new Certificates(out, given.orElseGet(Certificates::randomPassword), days,
        step -> {
          o.println("certs: " + step);
          o.flush();
        });
    if (ca == null) {
      certs.newCa("conveyor-ca", trustAlso);
    }
    for (String n : names) {
      certs.member(n, certs.ca(Optional.ofNullable(ca)));
    }
    Path password = certs.writePassword();
    o.println("certs: done in " + out.toAbsolutePath() + ":");
    if (ca == null) {
      o.println("  " + Certificates.CA + "          the CA's key (owner-only): keep it offline; it signs new members (--ca)");
      o.println("  " + Certificates.CA_PEM + "          the CA's certificate");
      o.println("  " + Certificates.TRUST_STORE + "  conveyor.tls.trust-store of every member");
    }
    for (String n : names) {
      o.println("  " + n + ".p12" + " ".repeat(Math.max(2, 12 - n.length())) + "conveyor.tls.key-store of " + (n.equals("node")
          ? "every member" : "member " + n));
    }
    o.println("  " + Certificates.PASSWORD_FILE + "        the stores' password (owner-only): export it as "
        + TlsSettings.KEY_STORE_PASSWORD + " and " + TlsSettings.TRUST_STORE_PASSWORD);
    o.println("On Kubernetes: kubectl create secret generic conveyor-tls --from-file=" + out.resolve(names.get(0) + ".p12")
        + " --from-file=" + out.resolve(Certificates.TRUST_STORE) + " --from-file=" + password);
    return ConveyorCli.EXIT_OK;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8).strip();
    } catch (java.io.IOException e) {
      throw new ConveyorCli.UsageException("cannot read " + p + ": " + e.getMessage());
    }
  }
}
