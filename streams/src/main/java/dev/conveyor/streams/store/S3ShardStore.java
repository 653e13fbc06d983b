package dev.conveyor.streams.store;

import dev.conveyor.config.S3Settings;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.crt.AwsCrtAsyncHttpClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3CrtAsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Shards in S3 ({@code s3://bucket/key}), read through the AWS SDK's CRT-based async client. A
 * read is the SDK's response publisher bridged into Pekko Streams, so demand flows back to
 * the client; the client's own buffer per GET is bounded by {@code read-buffer-size}.
 *
 * <p>Uploads stay single-part: the multipart threshold is set to the 5 GiB limit of one PUT,
 * which also keeps the embedded S3Proxy server (which refuses CRT multipart uploads) usable.
 */
public final class S3ShardStore implements ShardStore {
  private static final long MAX_SINGLE_PUT = 5L * 1024 * 1024 * 1024;

  private final S3AsyncClient client;
  private final S3AsyncClient readClient;
  private final ScheduledExecutorService timer;
  private final S3Reads reads;
  private final ReaderMetrics metrics = new ReaderMetrics();

  public S3ShardStore(S3Settings settings) {
    this.client = buildClient(settings);
    this.readClient = buildReadClient(settings);
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "conveyor-s3-timer");
      t.setDaemon(true);
      return t;
    });
    S3Settings.Reads r = settings.reads();
    this.reads = new S3Reads(readClient, settings, metrics,
        new CircuitBreaker(r.breakerFailures(), r.breakerOpenMillis(), timer, metrics),
        new AimdLimiter(r.minConcurrency(), settings.maxConcurrency(), metrics),
        new ByteBudget(r.memoryBudgetBytes()), timer);
  }

  /**
   * Reads go through a plain S3 client over the CRT HTTP client with the SDK's retries off:
   * Conveyor splits shards into ranged GETs itself and owns every retry, so a reset or stall
   * mid-body resumes from the last byte received and is counted (the CRT S3 client's own
   * splitting and retries would hide both).
   */
  private static S3AsyncClient buildReadClient(S3Settings s) {
    S3AsyncClientBuilder b = S3AsyncClient.builder()
        .region(Region.of(s.region()))
        .forcePathStyle(s.pathStyle())
        .httpClientBuilder(AwsCrtAsyncHttpClient.builder()
            .maxConcurrency(s.maxConcurrency())
            .readBufferSizeInBytes(s.readBufferBytes())
            .connectionTimeout(Duration.ofMillis(Math.min(10_000, s.reads().stallTimeoutMillis()))))
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .credentialsProvider(credentials(s));
    s.endpoint().ifPresent(b::endpointOverride);
    return b.build();
  }

  private static AwsCredentialsProvider credentials(S3Settings s) {
    if (s.hasStaticCredentials()) {
      return StaticCredentialsProvider.create(AwsBasicCredentials.create(s.accessKeyId(), s.secretAccessKey()));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  private static S3AsyncClient buildClient(S3Settings s) {
    S3CrtAsyncClientBuilder b = S3AsyncClient.crtBuilder()
        .region(Region.of(s.region()))
        .forcePathStyle(s.pathStyle())
        .minimumPartSizeInBytes(s.partSizeBytes())
        .thresholdInBytes(MAX_SINGLE_PUT)
        .maxConcurrency(s.maxConcurrency())
        .targetThroughputInGbps(s.targetThroughputGbps())
        .initialReadBufferSizeInBytes(s.readBufferBytes())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    s.endpoint().ifPresent(b::endpointOverride);
    b.credentialsProvider(credentials(s));
    return b.build();
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard) {
    return read(shard, 0, Long.MAX_VALUE);
  }

  @Override
  public Source<ByteString, NotUsed> read(URI shard, long offset, long length) {
    if (length <= 0) {
      return Source.empty();
    }
    S3Location.of(shard); // a malformed URI fails here, at once
    return Source.fromGraph(new RangedSource(reads, shard, offset, length));
  }

  @Override
  public CompletionStage<java.util.List<URI>> list(URI dir) {
    S3Location loc = S3Location.of(dir);
    String prefix = loc.key().isEmpty() || loc.key().endsWith("/") ? loc.key() : loc.key() + "/";
    java.util.List<URI> found = new java.util.ArrayList<>();
    return client.listObjectsV2Paginator(r -> r.bucket(loc.bucket()).prefix(prefix).delimiter("/"))
        .subscribe(page -> page.contents().forEach(o -> found.add(URI.create("s3://" + loc.bucket() + "/" + o.key()))))
        .handle((ok, e) -> {
          if (e != null) {
            throw failure(dir, e);
          }
          found.sort(java.util.Comparator.comparing(URI::toString));
          return found;
        });
  }

  @Override
  public ReaderMetrics metrics() {
    return metrics;
  }

  @Override
  public CompletionStage<ObjectStat> stat(URI object) {
    S3Location loc = S3Location.of(object);
    return client.headObject(r -> r.bucket(loc.bucket()).key(loc.key()))
        .handle((head, e) -> {
          if (e != null) {
            throw failure(object, e);
          }
          return new ObjectStat(head.contentLength(), head.eTag());
        });
  }

  @Override
  public CompletionStage<Done> write(URI target, Path from) {
    S3Location loc = S3Location.of(target);
    PutObjectRequest put = PutObjectRequest.builder().bucket(loc.bucket()).key(loc.key()).build();
    return client.putObject(put, AsyncRequestBody.fromFile(from))
        .handle((ok, e) -> {
          if (e != null) {
            throw failure(target, e);
          }
          return Done.getInstance();
        });
  }

  @Override
  public CompletionStage<Done> delete(URI target) {
    S3Location loc = S3Location.of(target);
    return client.deleteObject(r -> r.bucket(loc.bucket()).key(loc.key()))
        .handle((ok, e) -> {
          if (e != null) {
            throw failure(target, e);
          }
          return Done.getInstance();
        });
  }

  /** Creates the bucket if it does not exist yet (for datagen and demos on a fresh server). */
  public CompletionStage<Done> ensureBucket(String bucket) {
    return client.headBucket(r -> r.bucket(bucket))
        .<CompletionStage<Done>>handle((ok, e) -> {
          if (e == null) {
            return CompletableFuture.completedFuture(Done.getInstance());
          }
          return client.createBucket(r -> r.bucket(bucket)).thenApply(x -> Done.getInstance());
        })
        .thenCompose(x -> x);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    readClient.close();
    client.close();
  }

  /** Maps an SDK failure to one readable line. Never includes credentials: the SDK's messages do not. */
  static ShardReadException failure(URI shard, Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof SdkClientException && t.getCause() instanceof S3Exception)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof ShardReadException r) {
      return r;
    }
    String reason;
    if (t instanceof NoSuchKeyException) {
      reason = "not found (HTTP 404 NoSuchKey)";
    } else if (t instanceof NoSuchBucketException) {
      reason = "bucket not found (HTTP 404 NoSuchBucket)";
    } else if (t instanceof S3Exception s3) {
      String code = s3.awsErrorDetails() != null ? s3.awsErrorDetails().errorCode() : null;
      int status = s3.statusCode();
      if (status == 403) {
        reason = "access denied (HTTP 403" + (code == null ? "" : " " + code) + "): check the credentials and their permissions";
      } else if (status == 404) {
        reason = "not found (HTTP 404" + (code == null ? "" : " " + code) + ")";
      } else {
        reason = "S3 error (HTTP " + status + (code == null ? "" : " " + code) + ")";
      }
    } else if (t instanceof SdkClientException) {
      reason = "S3 client error: " + firstLine(t.getMessage());
    } else {
      reason = t.getClass().getSimpleName() + ": " + firstLine(t.getMessage());
    }
    return new ShardReadException(shard, reason, e);
  }

  /** The first line of a (possibly multi-line) message. */
  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
