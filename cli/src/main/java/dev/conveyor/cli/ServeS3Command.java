package dev.conveyor.cli;

import dev.conveyor.tools.s3.EmbeddedS3;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code conveyor serve-s3}: the embedded S3 server on its own, until interrupted. */
@Command(
    name = "serve-s3",
    mixinStandardHelpOptions = true,
    description = {
        "Serves a local folder over the S3 protocol (on 127.0.0.1 unless --host says otherwise) until stopped.",
        "Each top-level folder is a bucket (S3Proxy). Credentials are fixed, for local use only. Ctrl-C stops it."})
final class ServeS3Command implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The folder to serve (created if missing).")
  Path dir;

  @Option(names = "--port", paramLabel = "P", defaultValue = "9000", description = "Port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
      description = "Address to listen on, e.g. 0.0.0.0 in a pod (default: ${DEFAULT-VALUE}). The credentials are fixed test"
          + " ones: never serve beyond loopback outside a private development cluster.")
  String host;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new ConveyorCli.UsageException("--port must be 0..65535, got " + port);
    }
    EmbeddedS3 s3 = EmbeddedS3.start(dir, host, port);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      s3.close();
      stopped.countDown();
    }, "conveyor-serve-s3-stop"));
    PrintWriter out = spec.commandLine().getOut();
    out.println("serve-s3: serving " + dir.toAbsolutePath() + " at " + s3.endpoint());
    out.println("  access-key-id " + EmbeddedS3.ACCESS_KEY_ID + ", secret-access-key " + EmbeddedS3.SECRET_ACCESS_KEY
        + " (fixed local test credentials), path-style");
    out.println("  e.g. conveyor run --shards 's3://BUCKET/part-{000000..000003}.tar' --set conveyor.s3.endpoint=" + s3.endpoint()
        + " --set conveyor.s3.access-key-id=" + EmbeddedS3.ACCESS_KEY_ID + " --set conveyor.s3.secret-access-key=" + EmbeddedS3.SECRET_ACCESS_KEY);
    out.flush();
    stopped.await();
    return ConveyorCli.EXIT_OK;
  }
}
