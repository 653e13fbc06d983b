package dev.conveyor.streams.store;

import dev.conveyor.config.S3Settings;
import dev.conveyor.streams.store.ReaderMetrics.Cause;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.util.ByteString;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.ResponsePublisher;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * One byte range of one object, read to the end through faults. Each attempt waits for the
 * endpoint's breaker and concurrency limiter, then GETs {@code bytes=from+received-to}: a
 * reset, a stall (no byte for the stall timeout) or a short body resumes from the last byte
 * received, so no byte is delivered twice or dropped. 503/500s back off with full jitter.
 * Attempts that bring no byte are bounded; waiting out an open breaker is bounded in time.
 *
 * <p>The first range of a read also learns the object's size and ETag; later ranges send
 * {@code If-Match} with that ETag, so an object replaced mid-read fails instead of mixing.
 */
final class RangeRead {
  /** What a range read produced. {@code objectSize} is -1 when not learned. */
  record Result(ByteString bytes, long objectSize, String etag) {}

  private final S3Reads reads;
  private final URI shard;
  private final S3Location loc;
  private final long from;
  private final long to; // inclusive
  private final String etag;
  private final CompletableFuture<Result> result = new CompletableFuture<>();
  private ByteString got = ByteString.emptyByteString(); // the range's bytes so far

  // attempt state, guarded by this
  private long received;
  private int attemptsWithoutProgress;
  private int attempt; // number of the current attempt; bytes from older ones are dropped
  private long lastByteNanos;
  private long objectSize = -1;
  private String learnedEtag;
  private long expectedEnd = -1; // inclusive end of what this range will deliver, once known
  private Subscription subscription;
  private CompletableFuture<?> pending;
  private ScheduledFuture<?> watchdog;
  private boolean holdingPermit;
  private boolean cancelled;
  private long waitingSinceNanos = -1;
  private long ticket; // the breaker's, when the current attempt was sent

  private RangeRead(S3Reads reads, URI shard, long from, long to, String etag) {
    this.reads = reads;
    this.shard = shard;
    this.loc = S3Location.of(shard);
    this.from = from;
    this.to = to;
    this.etag = etag;
  }

  /** Reads bytes {@code from..to} (inclusive; fewer when the object ends first) of {@code shard}. */
  static RangeRead start(S3Reads reads, URI shard, long from, long to, String etag) {
    RangeRead r = new RangeRead(reads, shard, from, to, etag);
    r.next();
    return r;
  }

  CompletableFuture<Result> result() {
    return result;
  }

  /** Stops the read (its consumer went away); the in-flight request is aborted. */
  void cancel() {
    synchronized (this) {
      cancelled = true;
    }
    abortAttempt();
    releasePermit(false); // whether it was in flight or waiting on the breaker: nothing of it goes on
    result.cancel(false);
  }

  private S3Settings.Reads rules() {
    return reads.settings().reads();
  }

  /** Waits for the breaker and a concurrency permit, then sends the next attempt. */
  private void next() {
    long outage = rules().maxOutageMillis();
    long left;
    synchronized (this) { // the outage bound counts from the first wait since the last request went out
      if (waitingSinceNanos < 0) {
        waitingSinceNanos = System.nanoTime();
      }
      left = Math.max(1, outage - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - waitingSinceNanos));
    }
    // the permit first, then the breaker: a request that got its permit during an outage must
    // still wait for the breaker, or those queued on the limiter would stampede the store
    long wait = left;
    reads.limiter().acquire()
        .thenCompose(x -> {
          synchronized (this) {
            holdingPermit = true;
          }
          return reads.breaker().admit().orTimeout(wait, TimeUnit.MILLISECONDS);
        })
        .whenComplete((x, e) -> {
          if (e != null) {
            giveUp(e instanceof TimeoutException || e.getCause() instanceof TimeoutException
                ? "the store did not recover within breaker.max-outage (" + outage + " ms)"
                : "interrupted: " + e, e);
            return;
          }
          send();
        });
  }

  private void send() {
    long start;
    int myAttempt;
    boolean gone;
    synchronized (this) {
      gone = cancelled;
    }
    if (gone) { // cancelled while it waited for the permit it now holds
      releasePermit(false);
      return;
    }
    synchronized (this) {
      waitingSinceNanos = -1;
      ticket = reads.breaker().ticket();
      myAttempt = ++attempt;
      start = from + received;
      lastByteNanos = System.nanoTime();
      watchdog = reads.timer().scheduleAtFixedRate(() -> checkStall(myAttempt),
          Math.max(1, rules().stallTimeoutMillis() / 4), Math.max(1, rules().stallTimeoutMillis() / 4), TimeUnit.MILLISECONDS);
    }
    GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(loc.bucket()).key(loc.key())
        .range("bytes=" + start + "-" + to);
    String match = etag != null ? etag : learnedEtagOrNull();
    if (match != null) {
      req.ifMatch(match);
    }
    reads.metrics().request();
    long sent = System.nanoTime();
    CompletableFuture<ResponsePublisher<GetObjectResponse>> f =
        reads.client().getObject(req.build(), AsyncResponseTransformer.toPublisher());
    synchronized (this) {
      pending = f;
    }
    f.whenComplete((pub, e) -> {
      if (e != null) {
        failed(myAttempt, e);
      } else {
        reads.metrics().latency(System.nanoTime() - sent);
        onResponse(myAttempt, pub);
      }
    });
  }

  private synchronized long ticketNow() {
    return ticket;
  }

  private synchronized String learnedEtagOrNull() {
    return learnedEtag;
  }

  private void onResponse(int myAttempt, ResponsePublisher<GetObjectResponse> pub) {
    GetObjectResponse resp = pub.response();
    String wrongRange;
    synchronized (this) {
      if (myAttempt != attempt) {
        return;
      }
      wrongRange = rangeProblem(resp, from + received);
      if (wrongRange == null && objectSize < 0) {
        objectSize = resp.contentRange() == null ? resp.contentLength() : totalOf(resp.contentRange());
        learnedEtag = resp.eTag();
      }
      long length = resp.contentLength() == null ? -1 : resp.contentLength();
      expectedEnd = length >= 0 ? from + received + length - 1 : Math.min(to, objectSize - 1);
    }
    reads.breaker().success(ticketNow());
    if (wrongRange != null) { // bytes from elsewhere in the object must never be taken for these
      failed(myAttempt, new ShardReadException(shard, wrongRange, null));
      return;
    }
    pub.subscribe(new Subscriber<ByteBuffer>() {
      @Override
      public void onSubscribe(Subscription s) {
        synchronized (RangeRead.this) {
          if (myAttempt != attempt) {
            s.cancel();
            return;
          }
          subscription = s;
        }
        s.request(Long.MAX_VALUE); // a range is at most one part: bounded
      }

      @Override
      public void onNext(ByteBuffer b) {
        int n = b.remaining();
        synchronized (RangeRead.this) {
          if (myAttempt != attempt) {
            return;
          }
          if (from + received + n - 1 > expectedEnd) {
            failedLater(myAttempt, new Retryable(Cause.TRUNCATED, "the body ran past the requested range"));
            return;
          }
          got = got.concat(wrap(b));
          received += n;
          lastByteNanos = System.nanoTime();
          attemptsWithoutProgress = 0;
        }
        reads.metrics().bytes(n);
      }

      @Override
      public void onError(Throwable t) {
        failed(myAttempt, t);
      }

      @Override
      public void onComplete() {
        long short_;
        synchronized (RangeRead.this) {
          if (myAttempt != attempt) {
            return;
          }
          short_ = expectedEnd - (from + received - 1);
        }
        if (short_ > 0) {
          failed(myAttempt, new Retryable(Cause.TRUNCATED, "the body ended " + short_ + " bytes early"));
        } else {
          finish();
        }
      }
    });
  }

  /**
   * The chunk as a ByteString. The CRT HTTP client hands each chunk of a body over in an array
   * of its own that it never touches again, so such a chunk is wrapped, not copied; a chunk in
   * any other buffer is copied.
   */
  private static ByteString wrap(ByteBuffer b) {
    if (b.hasArray()) {
      return ByteString.fromArrayUnsafe(b.array(), b.arrayOffset() + b.position(), b.remaining());
    }
    return ByteString.fromByteBuffer(b);
  }

  /** Fails an attempt from inside this read's lock: the failure runs on the timer thread. */
  private void failedLater(int myAttempt, Throwable e) {
    reads.timer().execute(() -> failed(myAttempt, e));
  }

  private void checkStall(int myAttempt) {
    synchronized (this) {
      if (myAttempt != attempt
          || System.nanoTime() - lastByteNanos < TimeUnit.MILLISECONDS.toNanos(rules().stallTimeoutMillis())) {
        return;
      }
    }
    failed(myAttempt, new Retryable(Cause.STALL, "no byte for " + rules().stallTimeoutMillis() + " ms"));
  }

  private void finish() {
    ByteString bytes;
    long size;
    String tag;
    boolean permit;
    synchronized (this) {
      attempt++; // nothing from this attempt counts any more
      stopWatchdog();
      permit = dropPermit();
      bytes = got; // chunks as the client gave them: no copy
      size = objectSize;
      tag = learnedEtag;
    }
    if (permit) {
      reads.limiter().release(false);
    }
    result.complete(new Result(bytes, size, tag));
  }

  /** The attempt {@code myAttempt} failed with {@code e}: retry, resume, or give up. */
  private void failed(int myAttempt, Throwable e) {
    Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    synchronized (this) {
      if (myAttempt != attempt || result.isDone()) {
        return;
      }
      attempt++; // late bytes and callbacks of the failed attempt are ignored from here
      stopWatchdog();
    }
    abortTransfer();
    if (t instanceof S3Exception s3 && s3.statusCode() == 416 && from == 0) {
      synchronized (this) { // a range of an empty object: S3 answers 416 InvalidRange
        objectSize = 0;
        learnedEtag = null;
      }
      reads.breaker().success(ticketNow());
      finish();
      return;
    }
    Cause cause = classify(t);
    if (cause == null) {
      releasePermit(false);
      reads.breaker().success(ticketNow()); // the store answered: it is up, the request is wrong
      giveUp(null, t);
      return;
    }
    boolean outage = reads.breaker().holding();
    reads.breaker().failure(ticketNow());
    int tries;
    long resumeAt;
    releasePermit(cause == Cause.THROTTLE);
    synchronized (this) {
      if (!outage) {
        attemptsWithoutProgress++;
      }
      tries = attemptsWithoutProgress;
      resumeAt = from + received;
    }
    reads.metrics().retry(cause);
    if (tries >= rules().maxAttempts()) {
      giveUp(tries + " attempts in a row brought no byte; the last: " + describe(cause, t), t);
      return;
    }
    if (resumeAt > from) {
      reads.metrics().resume();
    }
    long delay = Backoff.delayMillis(rules(), Math.max(tries, 1), shard.toString(), resumeAt);
    reads.timer().schedule(this::next, delay, TimeUnit.MILLISECONDS);
  }

  private void giveUp(String reason, Throwable t) {
    reads.metrics().failedRead();
    synchronized (this) {
      stopWatchdog();
    }
    releasePermit(false);
    ShardReadException failure = reason == null ? S3ShardStore.failure(shard, t) : new ShardReadException(shard, reason, t);
    if (t instanceof S3Exception s3 && s3.statusCode() == 412) {
      failure = new ShardReadException(shard, "the object changed while it was being read (its ETag no longer matches)", t);
    }
    result.completeExceptionally(failure);
  }

  /** Null when the failure is not worth retrying (403, 404, 412, 400 …). */
  static Cause classify(Throwable t) {
    if (t instanceof Retryable r) {
      return r.cause;
    }
    if (t instanceof S3Exception s3 && s3.statusCode() > 0) {
      int status = s3.statusCode();
      String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
      if (status == 503 || status == 429 || "SlowDown".equals(code)) {
        return Cause.THROTTLE;
      }
      if (status == 500 || status == 502 || status == 504) {
        return Cause.SERVER_ERROR;
      }
      return null;
    }
    if (t instanceof ShardReadException) {
      return null;
    }
    return Cause.RESET; // connection refused, reset, closed, I/O errors of the client
  }

  private static String describe(Cause cause, Throwable t) {
    if (t instanceof S3Exception s3) {
      return "HTTP " + s3.statusCode() + (s3.awsErrorDetails() == null ? "" : " " + s3.awsErrorDetails().errorCode());
    }
    String what = cause == Cause.RESET ? "connection failed or reset"
        : cause.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    return what + ": " + (t.getMessage() == null ? t.getClass().getSimpleName() : S3ShardStore.firstLine(t.getMessage()));
  }

  private void abortAttempt() {
    synchronized (this) {
      attempt++;
      stopWatchdog();
    }
    abortTransfer();
  }

  private void abortTransfer() {
    Subscription s;
    CompletableFuture<?> p;
    synchronized (this) {
      s = subscription;
      p = pending;
      subscription = null;
      pending = null;
    }
    if (s != null) {
      s.cancel();
    }
    if (p != null) {
      p.cancel(true);
    }
  }

  private void stopWatchdog() {
    if (watchdog != null) {
      watchdog.cancel(false);
      watchdog = null;
    }
  }

  /** Gives the concurrency permit back, if this read holds one (outside this read's lock). */
  private void releasePermit(boolean throttled) {
    boolean had;
    synchronized (this) {
      had = dropPermit();
    }
    if (had) {
      reads.limiter().release(throttled);
    }
  }

  private boolean dropPermit() {
    boolean had = holdingPermit;
    holdingPermit = false;
    return had;
  }

  /**
   * Why a response to a GET of bytes from {@code start} does not hold them, or null: its
   * Content-Range must start there; without one (a 200 with the whole object) only a request
   * from byte 0 of an object that ends within the range is answered.
   */
  private String rangeProblem(GetObjectResponse resp, long start) {
    String cr = resp.contentRange();
    if (cr == null) {
      Long length = resp.contentLength();
      return start == 0 && length != null && length - 1 <= to ? null
          : "the server ignored the Range header (a whole object for bytes " + start + "-" + to + ")";
    }
    int dash = cr.indexOf('-');
    int space = cr.indexOf(' ');
    try {
      long first = Long.parseLong(cr.substring(space + 1, dash).trim());
      return first == start ? null : "the server answered bytes " + first + "… for bytes " + start + "-" + to;
    } catch (RuntimeException e) {
      return "unreadable Content-Range \"" + cr + "\"";
    }
  }

  /** The total of a {@code Content-Range: bytes a-b/total} header, or -1. */
  static long totalOf(String contentRange) {
    if (contentRange == null) {
      return -1;
    }
    int slash = contentRange.lastIndexOf('/');
    if (slash < 0 || contentRange.endsWith("*")) {
      return -1;
    }
    try {
      return Long.parseLong(contentRange.substring(slash + 1).trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A failure the reader itself detects: a stall or a short body. */
  static final class Retryable extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final Cause cause;

    Retryable(Cause cause, String message) {
      super(message, null, false, false);
      this.cause = cause;
    }
  }
}
