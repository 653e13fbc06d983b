package dev.conveyor.config;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Remoting over TLS: the {@code conveyor.tls} section, shared by nodes and the clients that join
 * their cluster. On, every connection between members is TLS 1.3 with mutual authentication: a
 * member presents the certificate in its key store and accepts only peers whose certificate a CA
 * in its trust store signed. Passwords come only from the environment ({@link #KEY_STORE_PASSWORD},
 * {@link #TRUST_STORE_PASSWORD}); {@link #toString()} leaves them out.
 *
 * @param enabled    TLS on remoting ({@code tls-tcp}) instead of plain TCP
 * @param keyStore   PKCS12 file with this member's private key and certificate chain
 * @param trustStore PKCS12 file with the CA certificate(s) a peer must be signed by
 * @param certificate this member's certificate: its subject and until when it is valid ("" when off)
 * @param allowPlainTcp with TLS off, remoting may listen beyond loopback (a network only the cluster reaches)
 */
public record TlsSettings(boolean enabled, Path keyStore, String keyStorePassword, Path trustStore,
                          String trustStorePassword, String certificate, boolean allowPlainTcp) {
  public static final String PATH = "conveyor.tls";
  public static final String KEY_STORE_PASSWORD = "CONVEYOR_TLS_KEY_STORE_PASSWORD";
  public static final String TRUST_STORE_PASSWORD = "CONVEYOR_TLS_TRUST_STORE_PASSWORD";

  public static final String ALLOW_PLAIN_TCP = "CONVEYOR_TLS_ALLOW_PLAIN_TCP";

  public static TlsSettings fromConfig(Config config) {
    ConfigReader r = new ConfigReader(config, PATH);
    boolean enabled = r.bool("enabled");
    Path keyStore = Path.of(r.string("key-store"));
    Path trustStore = Path.of(r.string("trust-store"));
    String keyPassword = r.secret("key-store-password", KEY_STORE_PASSWORD);
    String trustPassword = r.secret("trust-store-password", TRUST_STORE_PASSWORD);
    boolean allowPlain = r.bool("allow-plain-tcp");
    if (!enabled) {
      return new TlsSettings(false, Path.of(""), "", Path.of(""), "", "", allowPlain);
    }
    store(r, "key-store", keyStore);
    store(r, "trust-store", trustStore);
    if (keyPassword.isEmpty()) {
      throw new SettingsException(r.key("key-store-password"), "is empty: export " + KEY_STORE_PASSWORD
          + " (the key store's password; conveyor certs wrote it to password in its folder)");
    }
    if (trustPassword.isEmpty()) {
      throw new SettingsException(r.key("trust-store-password"), "is empty: export " + TRUST_STORE_PASSWORD
          + " (the trust store's password; conveyor certs wrote it to password in its folder)");
    }
    String certificate = certificate(r, open(r, "key-store", keyStore, keyPassword), keyStore);
    try {
      if (open(r, "trust-store", trustStore, trustPassword).size() == 0) {
        throw new SettingsException(r.key("trust-store"), trustStore + " holds no CA certificate: no peer could be trusted");
      }
    } catch (java.security.KeyStoreException e) {
      throw new SettingsException(r.key("trust-store"), trustStore + " cannot be read: " + e.getMessage());
    }
    return new TlsSettings(true, keyStore, keyPassword, trustStore, trustPassword, certificate, allowPlain);
  }

  /**
   * The member's certificate in {@code ks}, checked to come with its private key and to be valid
   * now: its subject and until when it is valid, for the node's up line.
   */
  private static String certificate(ConfigReader r, java.security.KeyStore ks, Path keyStore) {
    try {
      for (String alias : java.util.Collections.list(ks.aliases())) {
        if (ks.isKeyEntry(alias) && ks.getCertificate(alias) instanceof java.security.cert.X509Certificate c) {
          try {
            c.checkValidity();
          } catch (java.security.cert.CertificateException e) {
            throw new SettingsException(r.key("key-store"), keyStore + ": the certificate " + c.getSubjectX500Principal()
                + " is not valid now (valid " + c.getNotBefore().toInstant() + " to " + c.getNotAfter().toInstant()
                + "): make a new one (docs/operators.md \"Security\": rotating certificates)");
          }
          return c.getSubjectX500Principal().getName() + " until " + c.getNotAfter().toInstant();
        }
      }
    } catch (java.security.KeyStoreException e) {
      throw new SettingsException(r.key("key-store"), keyStore + " cannot be read: " + e.getMessage());
    }
    throw new SettingsException(r.key("key-store"), keyStore + " holds no private key with its certificate");
  }

  private static java.security.KeyStore open(ConfigReader r, String name, Path file, String password) {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(in, password.toCharArray());
      return ks;
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      // a wrong password surfaces as an IOException whose cause is an UnrecoverableKeyException
      throw new SettingsException(r.key(name), file + " does not open as a PKCS12 store with the password from "
          + (name.equals("key-store") ? KEY_STORE_PASSWORD : TRUST_STORE_PASSWORD) + " (a wrong password, or not PKCS12)");
    }
  }

  private static void store(ConfigReader r, String name, Path file) {
    if (file.toString().isEmpty()) {
      throw new SettingsException(r.key(name), "is empty while " + PATH + ".enabled = true: give the PKCS12 file"
          + " (bin/conveyor certs --out DIR makes a CA and node stores)");
    }
    if (!Files.isReadable(file)) {
      throw new SettingsException(r.key(name), "cannot read " + file.toAbsolutePath()
          + " (bin/conveyor certs --out DIR makes a CA and node stores)");
    }
  }

  @Override
  public String toString() {
    return "TlsSettings[enabled=" + enabled + ", keyStore=" + keyStore + ", trustStore=" + trustStore + ", certificate="
        + certificate + "]";
  }
}
