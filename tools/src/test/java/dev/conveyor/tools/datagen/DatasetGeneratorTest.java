package dev.conveyor.tools.datagen;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.conveyor.streams.catalog.Catalog;
import dev.conveyor.streams.manifest.Manifest;
import dev.conveyor.streams.manifest.ShardInfo;
import dev.conveyor.streams.sample.RawSample;
import dev.conveyor.streams.sample.ShardRecord;
import dev.conveyor.streams.sample.ShardSamples;
import dev.conveyor.streams.store.FileShardStore;
import dev.conveyor.streams.testing.StreamTestKit;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.pekko.util.ByteString;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetGeneratorTest {
  static final StreamTestKit kit = new StreamTestKit();
  static final DatasetSpec SPEC = new DatasetSpec(12, 3, 64 * 1024, 42);

  @TempDir
  static Path dir;

  static Manifest manifest;

  @BeforeAll
  static void generate() throws Exception {
    manifest = generateInto(dir.resolve("a"), SPEC);
  }

  @AfterAll
  static void stop() {
    kit.close();
  }

  static Manifest generateInto(Path out, DatasetSpec spec) throws Exception {
    List<Long> progress = new ArrayList<>();
    Manifest m = new DatasetGenerator(new FileShardStore(), out.resolve("scratch"), 2)
        .generate(spec, out.resolve("data").toUri(), progress::add);
    assertThat(progress).last().isEqualTo((long) spec.samples());
    return m;
  }

  @Test
  void theManifestListsEveryShardWithItsTrueSizeCountAndSha256() throws Exception {
    assertThat(manifest.shards()).hasSizeGreaterThan(1);
    assertThat(manifest.samples()).isEqualTo(SPEC.samples());
    Manifest onDisk = Manifest.parse(Files.readString(dir.resolve("a/data/shards.json")));
    assertThat(onDisk).isEqualTo(manifest);
    for (ShardInfo s : manifest.shards()) {
      byte[] bytes = Files.readAllBytes(dir.resolve("a/data").resolve(s.name()));
      assertThat(bytes.length).isEqualTo(s.bytes());
      assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))).isEqualTo(s.sha256());
    }
  }

  @Test
  void everySampleReadsBackWithTheBytesAnIndependentTarReaderSees() throws Exception {
    int seen = 0;
    for (ShardInfo s : manifest.shards()) {
      Path shard = dir.resolve("a/data").resolve(s.name());
      Map<String, ByteString> expected = new LinkedHashMap<>();
      try (TarArchiveInputStream tar = new TarArchiveInputStream(Files.newInputStream(shard))) {
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
          expected.put(e.getName(), ByteString.fromArray(tar.readAllBytes()));
        }
      }
      List<ShardRecord> records = kit.collect(ShardSamples.read(new FileShardStore(), shard.toUri(), 1 << 24));
      Map<String, ByteString> actual = new LinkedHashMap<>();
      for (ShardRecord r : records) {
        RawSample sample = (RawSample) r;
        assertThat(sample.members()).hasSize(2);
        sample.members().forEach(m -> actual.put(sample.key() + "." + m.ext(), m.data()));
        seen++;
      }
      assertThat(actual).containsExactlyEntriesOf(expected);
    }
    assertThat(seen).isEqualTo(SPEC.samples());
  }

  @Test
  void theSameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws Exception {
    assertThat(generateInto(dir.resolve("b"), SPEC)).isEqualTo(manifest);
    Manifest other = generateInto(dir.resolve("c"), new DatasetSpec(12, 3, 64 * 1024, 43));
    assertThat(other.shards().get(0).sha256()).isNotEqualTo(manifest.shards().get(0).sha256());
  }

  @Test
  void imagesAreRealJpegsAndClipsRealH264AsTheirCaptionsDescribe() throws Exception {
    int images = 0;
    int videos = 0;
    for (ShardInfo s : manifest.shards()) {
      for (ShardRecord r : kit.collect(ShardSamples.read(new FileShardStore(),
          dir.resolve("a/data").resolve(s.name()).toUri(), 1 << 24))) {
        RawSample sample = (RawSample) r;
        Config json = ConfigFactory.parseString(sample.member("json").orElseThrow().data().utf8String());
        assertThat(json.getString("key")).isEqualTo(sample.key());
        assertThat(json.getString("caption")).startsWith("a ").endsWith("on a gradient");
        if (sample.member("jpg").isPresent()) {
          BufferedImage img = ImageIO.read(new ByteArrayInputStream(sample.member("jpg").get().data().toArray()));
          assertThat(img.getWidth()).isEqualTo(json.getInt("width"));
          assertThat(img.getHeight()).isEqualTo(json.getInt("height"));
          images++;
        } else {
          checkClip(sample.member("mp4").orElseThrow().data(), json);
          videos++;
        }
      }
    }
    assertThat(images).isEqualTo(12);
    assertThat(videos).isEqualTo(3);
  }

  @Test
  void theCatalogListsEverySampleWhereItsShardHoldsItAndChoosesByItsJsonFields() throws Exception {
    Path data = dir.resolve("a/data");
    // what an independent tar reader sees: each sample's members, and where its first header begins
    Map<String, List<Integer>> labelled = new LinkedHashMap<>(); // shard -> samples with label 2, by their json
    Map<String, List<String>> keys = new LinkedHashMap<>();
    for (ShardInfo s : manifest.shards()) {
      List<String> inShard = new ArrayList<>();
      try (TarArchiveInputStream tar = new TarArchiveInputStream(Files.newInputStream(data.resolve(s.name())))) {
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
          String name = e.getName();
          String key = name.substring(0, name.indexOf('.'));
          if (inShard.isEmpty() || !inShard.get(inShard.size() - 1).equals(key)) {
            inShard.add(key);
          }
          if (name.endsWith(".json") && ConfigFactory.parseString(new String(tar.readAllBytes())).getInt("label") == 2) {
            labelled.computeIfAbsent(s.name(), x -> new ArrayList<>()).add(inShard.size() - 1);
          }
        }
      }
      keys.put(s.name(), inShard);
    }
    try (Catalog c = Catalog.open(data.resolve(Catalog.FILE_NAME))) {
      assertThat(c.version()).contains(Catalog.corpusVersion(Files.readString(data.resolve("shards.json"))));
      assertThat(c.choose("").chosen()).isEqualTo(SPEC.samples());
      Map<String, List<Integer>> chosen = new LinkedHashMap<>();
      c.choose("label = 2").samples().forEach((shard, n) -> chosen.put(shard, Arrays.stream(n).boxed().toList()));
      assertThat(chosen).isEqualTo(labelled).isNotEmpty();
    }
    // each row's bytes [offset, offset + length) of its shard hold exactly its sample's members
    try (var db = java.sql.DriverManager.getConnection("jdbc:duckdb:"); var st = db.createStatement();
         var rs = st.executeQuery("SELECT key, shard, sample, \"offset\", length, members FROM read_parquet('"
             + data.resolve(Catalog.FILE_NAME) + "')")) {
      int rows = 0;
      while (rs.next()) {
        String key = rs.getString(1);
        assertThat(keys.get(rs.getString(2)).get(rs.getInt(3))).isEqualTo(key);
        byte[] shard = Files.readAllBytes(data.resolve(rs.getString(2)));
        byte[] range = Arrays.copyOfRange(shard, (int) rs.getLong(4), (int) (rs.getLong(4) + rs.getLong(5)));
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(range))) {
          for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
            names.add(e.getName());
          }
        }
        List<String> members = new ArrayList<>();
        for (Object m : (Object[]) rs.getArray(6).getArray()) {
          members.add(key + "." + m);
        }
        assertThat(names).containsExactlyElementsOf(members).hasSize(2);
        rows++;
      }
      assertThat(rows).isEqualTo(SPEC.samples());
    }
  }

  private static void checkClip(ByteString mp4, Config json) throws Exception {
    try (InputStream in = new ByteArrayInputStream(mp4.toArray());
         FFmpegFrameGrabber g = new FFmpegFrameGrabber(in, mp4.size())) {
      g.start();
      assertThat(g.getVideoCodecName()).isEqualTo("h264");
      assertThat(g.getImageWidth()).isEqualTo(json.getInt("width"));
      assertThat(g.getImageHeight()).isEqualTo(json.getInt("height"));
      int frames = 0;
      while (g.grabImage() != null) {
        frames++;
      }
      assertThat(frames).isEqualTo(json.getInt("frames"));
      double seconds = frames / (double) json.getInt("fps");
      assertThat(seconds).isBetween(0.95, 4.05);
      assertThat(json.getInt("fps")).isBetween(24, 30);
      g.stop();
    }
  }
}
