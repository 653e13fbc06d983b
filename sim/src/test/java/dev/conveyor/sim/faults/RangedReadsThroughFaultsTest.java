package dev.conveyor.sim.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.conveyor.config.S3Settings;
import dev.conveyor.sim.faults.FaultPlan.Fault;
import dev.conveyor.sim.faults.FaultPlan.Rule;
import dev.conveyor.streams.store.ReaderMetrics;
import dev.conveyor.streams.store.S3ShardStore;
import dev.conveyor.tools.s3.EmbeddedS3;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The S3 reader's ranged GETs through the fault proxy: whatever the faults, every byte arrives
 * once and in order, and each fault shows in the reader's counters.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RangedReadsThroughFaultsTest {
  @TempDir
  static Path dir;

  static EmbeddedS3 server;
  static ActorSystem system;
  static Materializer mat;
  static byte[] object;

  @BeforeAll
  static void start() throws Exception {
    object = new byte[3 * 1024 * 1024 + 4321];
    new Random(5).nextBytes(object);
    Files.createDirectories(dir.resolve("s3/bkt"));
    Files.write(dir.resolve("s3/bkt/obj.tar"), object);
    server = EmbeddedS3.start(dir.resolve("s3"), 0);
    system = ActorSystem.create("faults");
    mat = Materializer.matFromSystem(system);
    // The counters below equate the stalls seen with the stalls injected, which holds only when
    // the server answers promptly: a cold S3Proxy's first answers (class loading, JIT) took longer
    // than the stall timeout on a loaded 2-core machine and were counted as one more stall.
    try (S3ShardStore warm = new S3ShardStore(settings(server.endpoint(), ""))) {
      for (int i = 0; i < 3; i++) {
        readAll(warm, URI.create("s3://bkt/obj.tar"), 0, Long.MAX_VALUE);
      }
    }
  }

  @AfterAll
  static void stop() {
    system.terminate();
    server.close();
  }

  /** Reader settings for tests: 128 KiB parts, short stall timeout and backoff. */
  static S3Settings settings(URI endpoint, String more) {
    S3Settings base = S3Settings.fromConfig(ConfigFactory.parseString("""
        conveyor.s3 {
          part-size = 128KiB
          # stalls last 2 s and latency spikes 200 ms: 800 ms tells them apart also on a loaded machine
          # (at 300 ms a slow answer there was once counted as a stall the proxy had not injected)
          read { parts-in-flight = 4, stall-timeout = 800ms }
          retry { max-attempts = 12, base-delay = 10ms, max-delay = 200ms }
        }
        """ + more).withFallback(ConfigFactory.defaultReference()));
    return base.withEndpoint(endpoint, EmbeddedS3.ACCESS_KEY_ID, EmbeddedS3.SECRET_ACCESS_KEY);
  }

  static ByteString readAll(S3ShardStore store, URI uri, long offset, long length) throws Exception {
    return store.read(uri, offset, length).runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat)
        .toCompletableFuture().get(100, TimeUnit.SECONDS);
  }

  @Test
  void everyByteArrivesOnceAndInOrderThroughEveryKindOfFault() throws Exception {
    FaultPlan plan = new FaultPlan(11, List.of(
        new Rule("GET", Fault.SLOW_DOWN_503, 0.10),
        new Rule("GET", Fault.ERROR_500, 0.05),
        new Rule("GET", Fault.RESET_MID_BODY, 0.10),
        new Rule("GET", Fault.STALL_BODY, 0.05),
        new Rule("GET", Fault.TRUNCATE, 0.05),
        new Rule("GET", Fault.LATENCY, 0.05)), 200, 2_000);
    try (FaultProxy proxy = FaultProxy.start(server.endpoint(), plan);
         S3ShardStore store = new S3ShardStore(settings(proxy.endpoint(), ""))) {
      URI uri = URI.create("s3://bkt/obj.tar");
      for (int round = 0; round < 3; round++) { // 3 x 26 parts: enough requests for every fault to occur
        assertThat(readAll(store, uri, 0, Long.MAX_VALUE)).isEqualTo(ByteString.fromArray(object));
      }
      assertThat(readAll(store, uri, 1_000_003, 777_777)).isEqualTo(ByteString.fromArray(object, 1_000_003, 777_777));

      var injected = proxy.injected();
      // every kind of the plan injected at least once (a changed byte has a test of its own, below:
      // these reads have no checksum to catch it)
      assertThat(injected).allSatisfy((fault, n) -> {
        if (fault == Fault.CORRUPT) {
          assertThat(n).as(fault.name()).isZero();
        } else {
          assertThat(n).as(fault.name()).isPositive();
        }
      });
      ReaderMetrics.Snapshot m = store.metrics().snapshot();
      assertThat(m.retries().get(ReaderMetrics.Cause.THROTTLE)).isEqualTo(injected.get(Fault.SLOW_DOWN_503));
      assertThat(m.retries().get(ReaderMetrics.Cause.SERVER_ERROR)).isEqualTo(injected.get(Fault.ERROR_500));
      assertThat(m.retries().get(ReaderMetrics.Cause.STALL)).isEqualTo(injected.get(Fault.STALL_BODY));
      // a cut body shows as a reset or a short body, depending on how the client notices the close
      assertThat(m.retries().get(ReaderMetrics.Cause.RESET) + m.retries().get(ReaderMetrics.Cause.TRUNCATED))
          .isEqualTo(injected.get(Fault.RESET_MID_BODY) + injected.get(Fault.TRUNCATE));
      // a body cut halfway resumes from its last byte, not from the part's start
      assertThat(m.resumes()).isEqualTo(injected.get(Fault.RESET_MID_BODY) + injected.get(Fault.TRUNCATE)
          + injected.get(Fault.STALL_BODY));
      assertThat(m.failedReads()).isZero();
    }
  }

  @Test
  void aReadThatCannotSucceedFailsAfterItsAttemptsWithTheCause() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(server.endpoint(), FaultPlan.always("GET", Fault.ERROR_500));
         S3ShardStore store = new S3ShardStore(settings(proxy.endpoint(), "conveyor.s3.retry.max-attempts = 3"))) {
      var failure = store.read(URI.create("s3://bkt/obj.tar")).runWith(Sink.ignore(), mat).toCompletableFuture();
      assertThat(failure).failsWithin(30, TimeUnit.SECONDS).withThrowableThat().havingCause()
          .withMessageContaining("s3://bkt/obj.tar: 3 attempts in a row brought no byte; the last: HTTP 500 InternalError");
      assertThat(proxy.requests()).isEqualTo(3);
    }
  }

  @Test
  void aCorruptFaultChangesOneByteOfARequestsFirstAnswerOnly() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(server.endpoint(), FaultPlan.always("GET", Fault.CORRUPT));
         S3ShardStore store = new S3ShardStore(settings(proxy.endpoint(), "conveyor.s3.part-size = 8MiB"))) {
      byte[] first = readAll(store, URI.create("s3://bkt/obj.tar"), 0, Long.MAX_VALUE).toArray();
      int changed = 0;
      for (int i = 0; i < object.length; i++) {
        changed += first[i] != object[i] ? 1 : 0;
      }
      assertThat(first).hasSameSizeAs(object);
      assertThat(changed).as("one byte of the first answer").isEqualTo(1);
      // the same request again: the true bytes, as a flaky link's retry gets them
      assertThat(readAll(store, URI.create("s3://bkt/obj.tar"), 0, Long.MAX_VALUE).toArray()).isEqualTo(object);
      assertThat(proxy.injected().get(Fault.CORRUPT)).isEqualTo(1);
    }
  }
}
