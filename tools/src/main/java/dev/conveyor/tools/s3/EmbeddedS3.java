package dev.conveyor.tools.s3;

import static java.util.Objects.requireNonNull;

import dev.conveyor.config.S3Settings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Properties;
import java.util.stream.Stream;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.filesystem.FilesystemApiMetadata;

/**
 * An S3 protocol server over a local folder (S3Proxy with the jclouds filesystem blob store),
 * bound to 127.0.0.1 unless told otherwise. Each top-level folder of {@code dir} is a bucket and each file below it
 * an object, so shards written with {@code file://} are servable as {@code s3://} unchanged.
 * Used by {@code conveyor demo}, {@code conveyor serve-s3}, the tests and the simulations.
 *
 * <p>Requires S3Proxy on the class path (an optional dependency of conveyor-streams).
 */
public final class EmbeddedS3 implements AutoCloseable {
  /** Fixed test credentials: this server is for loopback use only. */
  public static final String ACCESS_KEY_ID = "conveyor";
  public static final String SECRET_ACCESS_KEY = "conveyor-local-secret";

  /** The extended attribute in which the jclouds filesystem blob store keeps an object's MD5. */
  private static final String MD5_ATTRIBUTE = "user.content-md5";
  private static final long MAX_OBJECT = 5L * 1024 * 1024 * 1024;

  private final Path dir;
  private final String host;
  private final BlobStoreContext context;
  private final S3Proxy proxy;
  private final String accessKeyId;
  private final String secretAccessKey;

  private EmbeddedS3(Path dir, String host, BlobStoreContext context, S3Proxy proxy, String accessKeyId,
                     String secretAccessKey) {
    this.dir = dir;
    this.host = host;
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.context = context;
    this.proxy = proxy;
  }

  /** Starts a server over {@code dir} (created if missing) on 127.0.0.1:{@code port}; 0 picks a free port. */
  public static EmbeddedS3 start(Path dir, int port) throws Exception {
    return start(dir, "127.0.0.1", port);
  }

  /**
   * Starts a server over {@code dir} on {@code host:port} ("0.0.0.0": every interface, as in a
   * pod of the Kubernetes dev overlay); its credentials stay the fixed local ones.
   */
  public static EmbeddedS3 start(Path dir, String host, int port) throws Exception {
    return start(dir, host, port, ACCESS_KEY_ID, SECRET_ACCESS_KEY);
  }

  /** As {@link #start(Path, String, int)}, accepting only the credentials given (tests that track where secrets go). */
  public static EmbeddedS3 start(Path dir, String host, int port, String accessKeyId, String secretAccessKey)
      throws Exception {
    requireNonNull(dir, "dir is null");
    Files.createDirectories(dir);
    addMissingETags(dir);
    Properties props = new Properties();
    props.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
    BlobStoreContext context = ContextBuilder.newBuilder(new FilesystemApiMetadata())
        .overrides(props)
        .buildView(BlobStoreContext.class);
    S3Proxy proxy = S3Proxy.builder()
        .blobStore(context.getBlobStore())
        .endpoint(URI.create("http://" + host + ":" + port))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKeyId, secretAccessKey)
        .maxSinglePartObjectSize(MAX_OBJECT)
        .v4MaxNonChunkedRequestSize(MAX_OBJECT)
        .build();
    try {
      proxy.start();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!"STARTED".equals(proxy.getState())) {
        if (System.nanoTime() > deadline || "FAILED".equals(proxy.getState())) {
          throw new IOException("embedded S3 server did not start on " + host + ":" + port + " (state " + proxy.getState() + ")");
        }
        Thread.sleep(5);
      }
    } catch (Exception e) {
      context.close();
      throw e;
    }
    return new EmbeddedS3(dir, host, context, proxy, accessKeyId, secretAccessKey);
  }

  /**
   * Gives every file under {@code dir} the MD5 attribute the blob store serves as its ETag.
   * Files put there by S3 PUTs have it; files copied in (say by {@code datagen --out file://})
   * do not, and the CRT client refuses a split GET of an object without an ETag. Runs at start;
   * call it again after copying files into a running server's folder.
   */
  public static void addMissingETags(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
        if (view == null || view.list().contains(MD5_ATTRIBUTE)) {
          continue;
        }
        view.write(MD5_ATTRIBUTE, ByteBuffer.wrap(md5(f)));
      }
    }
  }

  private static byte[] md5(Path f) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has MD5", e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(f)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return md.digest();
  }

  public int port() {
    return proxy.getPort();
  }

  public URI endpoint() {
    return URI.create("http://" + host + ":" + port());
  }

  public Path dir() {
    return dir;
  }

  /** {@code base} pointed at this server, with its credentials. */
  public S3Settings settings(S3Settings base) {
    return base.withEndpoint(endpoint(), accessKeyId, secretAccessKey);
  }

  @Override
  public void close() {
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IllegalStateException("embedded S3 server did not stop cleanly", e);
    } finally {
      context.close();
    }
  }
}
