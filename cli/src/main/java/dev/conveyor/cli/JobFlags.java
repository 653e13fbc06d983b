package dev.conveyor.cli;

import com.typesafe.config.Config;
import dev.conveyor.config.JobSettings;
import dev.conveyor.config.SettingsException;
import dev.conveyor.config.StageSettings;
import dev.conveyor.streams.dsl.PipelineDefinition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The job file and the flags that override it, shared by {@code run} and {@code feed}. */
final class JobFlags {
  private static final String J = JobSettings.PATH + ".";

  @Parameters(index = "0", arity = "0..1", paramLabel = "JOB.conf", description = "A HOCON job file (see config/example-job.conf).")
  Path jobFile;

  @Option(names = "--pipeline", paramLabel = "CLASS", description = "A pipeline written in Java (a PipelineDefinition): its shards, decoding, stages and batch size, under --set and the flags.")
  String pipeline;

  @Option(names = "--classpath", paramLabel = "JAR", split = ":", description = "Jars or class folders holding the pipeline's (or map's) classes, ':'-separated.")
  List<Path> classpath = new ArrayList<>();

  @Option(names = "--shards", paramLabel = "PATTERN", description = "Shard URIs with brace expansion, s3:// or file:///.")
  String shards;

  @Option(names = "--manifest", paramLabel = "URI|auto|none", description = "The shards.json to check sample counts against.")
  String manifest;

  @Option(names = "--where", paramLabel = "SQL", description = "Read only the samples this SQL over the dataset's"
      + " catalog (catalog.parquet beside its shards.json) chooses, e.g. \"label = 3 AND width > 300\".")
  String where;

  @Option(names = "--corpus-version", paramLabel = "SHA256", description = "Refuse a catalog of another corpus version"
      + " than this (as `conveyor recipe` prints it).")
  String corpusVersion;

  @Option(names = "--catalog", paramLabel = "URI", description = "A Parquet catalog written by another tool (key, shard"
      + " and any fields, a row per sample) whose columns --where may use too.")
  String catalog;

  @Option(names = "--batch-size", paramLabel = "N", description = "Samples per batch per rank.")
  Integer batchSize;

  @Option(names = "--full-batches", description = "Every batch its rank's next batch-size kept samples, however many"
      + " a filter leaves out (an epoch as long as the rank with the fewest kept samples fills; the rest left over).")
  Boolean fullBatches;

  @Option(names = "--epochs", paramLabel = "N", description = "Passes over the data.")
  Integer epochs;

  @Option(names = "--seed", paramLabel = "S", description = "The recipe seed.")
  Long seed;

  @Option(names = "--world", paramLabel = "W", description = "Number of ranks.")
  Integer world;

  @Option(names = "--decode", paramLabel = "none|auto", description = "none: raw member bytes; auto: images and video to RGB tensors, text to strings.")
  String decode;

  @Option(names = "--on-bad-sample", paramLabel = "skip|fail", description = "skip: record bad samples and go on (within max-bad-fraction); fail: exit 3 at the first.")
  String onBadSample;

  @Option(names = "--max-steps", paramLabel = "N", description = "Stop each rank after N batches in this run (0: no limit).")
  Long maxSteps;

  @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Save cursors here (every checkpoint-every batches and at the stop): a directory, file:// or s3://.")
  String checkpointDir;

  @Option(names = "--resume", paramLabel = "CURSOR|latest|auto", description = "Continue from a cursor token, or the"
      + " newest in --checkpoint-dir (latest: there must be one; auto: when there is one, else from the start).")
  String resume;

  @Option(names = "--resume-or-start", description = "The same as --resume auto: the newest cursor in --checkpoint-dir"
      + " when there is one, else the start (for a job that may be restarted).")
  boolean resumeOrStart;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any setting, e.g. --set conveyor.s3.endpoint=http://127.0.0.1:9000")
  List<String> sets = new ArrayList<>();

  @Option(names = "--digest-out", paramLabel = "FILE", description = "One line per batch: epoch step rank sha256(batch) sha256(keys).")
  Path digestOut;

  @Option(names = "--keys-out", paramLabel = "FILE", description = "One line per sample: epoch rank step key.")
  Path keysOut;

  @Option(names = "--dead-letter", paramLabel = "FILE", description = "One line per skipped sample: shard key reason.")
  Path deadLetter;

  @Option(names = "--summary-json", paramLabel = "FILE", description = "The summary as one JSON object.")
  Path summaryJson;

  @Option(names = "--report", paramLabel = "DIR", description = "Record the run in DIR and draw its report there (report.html and PNG charts; see `conveyor report`).")
  Path report;

  @picocli.CommandLine.Mixin
  ProgressOptions progress = new ProgressOptions();

  /** The job's configuration: the job file, then --set, then the flags; {@code rank} the one served (null: all). */
  Config config(Integer rank) {
    Map<String, Object> flags = new LinkedHashMap<>();
    flags.put(J + "shards", shards);
    flags.put(J + "where", where);
    flags.put(J + "corpus-version", corpusVersion);
    flags.put(J + "catalog", catalog);
    flags.put(J + "manifest", manifest);
    flags.put(J + "batch-size", batchSize);
    flags.put(J + "full-batches", fullBatches);
    flags.put(J + "epochs", epochs);
    flags.put(J + "seed", seed);
    flags.put(J + "world-size", world);
    flags.put(J + "rank", rank);
    flags.put(J + "decode", decode);
    flags.put(J + "on-bad-sample", onBadSample);
    flags.put(J + "max-steps", maxSteps);
    flags.put(J + "checkpoint-dir", checkpointDir);
    AuthorCode.add(classpath);
    Optional<String> named = Optional.ofNullable(pipeline)
        .or(() -> Optional.of(new ConfigOverlay(Optional.ofNullable(jobFile)).set(sets).config()
            .getString(StageSettings.PIPELINE)).filter(s -> !s.isBlank()));
    ConfigOverlay o = new ConfigOverlay(Optional.ofNullable(jobFile));
    named.ifPresent(c -> o.over(pipelineSettings(c)));
    return o.set(sets).flags(flags).config();
  }

  private static com.typesafe.config.Config pipelineSettings(String className) {
    try {
      return PipelineDefinition.load(className).settings(className);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(StageSettings.PIPELINE, className + ": " + e.getMessage());
    }
  }

  /** Where the run starts, when a flag says so (else the job file's conveyor.job.resume holds). */
  Optional<String> resume() {
    if (resumeOrStart && resume != null) {
      throw new ConveyorCli.UsageException("--resume and --resume-or-start: give one of them");
    }
    return resumeOrStart ? Optional.of("auto") : Optional.ofNullable(resume);
  }

  JobLauncher.RecordFiles recordFiles() {
    return new JobLauncher.RecordFiles(Optional.ofNullable(digestOut), Optional.ofNullable(keysOut),
        Optional.ofNullable(deadLetter), Optional.ofNullable(summaryJson), Optional.ofNullable(report));
  }
}
