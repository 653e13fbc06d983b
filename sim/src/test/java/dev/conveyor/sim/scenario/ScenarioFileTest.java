package dev.conveyor.sim.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.config.SettingsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scenario files: read whole, and refused at once — naming the key and the fix — when they hold a typo. */
class ScenarioFileTest {
  @TempDir
  Path dir;

  Scenario read(String text) throws Exception {
    return ScenarioFile.read(Files.writeString(dir.resolve("s.conf"), text));
  }

  @Test
  void aScenarioReadsWithItsJobFaultsAndExpectation() throws Exception {
    Scenario s = read("""
        nodes = 4
        job { shards = 6, samples = 120, world = 3, batch-size = 4, epochs = 2, decode = auto, seed = 9, trainer-step = 30ms }
        faults = [
          { at = "batch 300", action = kill, node = 2, for = "5s" }
          { at = "2s", action = s3-slowdown, rate = 0.5 }
          { at = "batch 10", action = tear-checkpoint, how = garble }
        ]
        expect { exit = 0 }
        """);
    assertThat(s.nodes()).isEqualTo(4);
    assertThat(s.job().world()).isEqualTo(3);
    assertThat(s.job().trainerStep()).isEqualTo(Duration.ofMillis(30));
    assertThat(s.faults()).hasSize(3);
    assertThat(s.faults().get(0).describe()).isEqualTo("kill node 2 at batch 300 for 5000ms");
    assertThat(s.faults().get(1).at().after()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.faults().get(1).duration()).as("an S3 fault lasts 5 s unless told").isEqualTo(Duration.ofSeconds(5));
    // scheduled by batch, time triggers last
    assertThat(s.schedule(Optional.empty())).extracting(f -> f.action().id())
        .containsExactly("tear-checkpoint", "kill", "s3-slowdown");
  }

  @Test
  void aRenewalOfCertificatesNeedsTheClusterOnTls() throws Exception {
    String renew = "faults = [ { at = \"batch 5\", action = renew-certs } ]\n";
    assertThat(read("tls = true\n" + renew).tls()).isTrue();
    assertThat(read("nodes = 3\n").tls()).as("plain unless told").isFalse();
    assertThatThrownBy(() -> read(renew)).isInstanceOf(SettingsException.class)
        .hasMessageContaining("tls: renew-certs needs the cluster on TLS: add tls = true");
    assertThatThrownBy(() -> read("tls = maybe\n")).hasMessageContaining("tls: must be true or false");
    assertThatThrownBy(() -> read("tls = true\nfaults = [ { at = \"batch 5\", action = renew-certs, node = 2 } ]\n"))
        .hasMessageContaining("renew-certs acts on no node: remove node");
  }

  @Test
  void aTypoInAKeyIsRefusedWithTheKeyAndTheNearestRightOne() {
    assertThatThrownBy(() -> read("nodes = 3\nfualts = []\n")).isInstanceOf(SettingsException.class)
        .hasMessageContaining("fualts: is not a scenario key (did you mean \"faults\"?)");
    assertThatThrownBy(() -> read("job { batchsize = 8 }\n"))
        .hasMessageContaining("job.batchsize: is not a scenario key (did you mean \"batch-size\"?)")
        .hasMessageContaining("the keys under job are");
    assertThatThrownBy(() -> read("faults = [ { at = \"batch 3\", action = kill, nod = 2 } ]\n"))
        .hasMessageContaining("faults[0].nod: is not a scenario key (did you mean \"node\"?)");
  }

  @Test
  void anUnknownActionOrAMissingNodeOrABadTimeIsRefused() {
    assertThatThrownBy(() -> read("faults = [ { at = \"batch 3\", action = kil, node = 2 } ]\n"))
        .hasMessageContaining("faults[0].action: unknown action \"kil\" (did you mean \"kill\"?); the actions are kill |");
    assertThatThrownBy(() -> read("faults = [ { at = \"batch 3\", action = stop } ]\n"))
        .hasMessageContaining("faults[0].node: is missing: stop needs the node it acts on, 1..3");
    assertThatThrownBy(() -> read("faults = [ { at = \"batch 3\", action = kill, node = 5 } ]\n"))
        .hasMessageContaining("faults[0].node: must be in 1..3, got 5");
    assertThatThrownBy(() -> read("faults = [ { at = \"soon\", action = kill, node = 2 } ]\n"))
        .hasMessageContaining("faults[0].at: must be \"batch N\", a time such as \"2s\"");
    assertThatThrownBy(() -> read("faults-random { actions = [restart] }\n"))
        .hasMessageContaining("faults-random.actions: restart cannot be drawn at random");
  }

  @Test
  void aRandomNemesisDrawsTheSameFaultsFromTheSameSeedAndOthersFromAnother() throws Exception {
    Scenario s = read("faults-random { count = 5, seed = 3, actions = [kill, stop, s3-reset], from = \"batch 10\","
        + " to = \"batch 110\", for = 2s }\n");
    List<Scenario.Fault> a = s.schedule(Optional.empty());
    assertThat(a).hasSize(5).isEqualTo(s.schedule(Optional.of(3L)));
    assertThat(a).isNotEqualTo(s.schedule(Optional.of(4L)));
    assertThat(a).allMatch(f -> f.at().batch() >= 10 && f.at().batch() < 110)
        .allMatch(f -> !f.action().needsNode || f.node() >= 2);
  }

  @Test
  void everyShippedScenarioReadsAndTheyCoverEveryAction() throws Exception {
    List<Path> files;
    try (Stream<Path> in = Files.list(Path.of("scenarios"))) {
      files = in.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    java.util.Set<Action> used = java.util.EnumSet.noneOf(Action.class);
    boolean random = false;
    for (Path f : files) {
      Scenario s = ScenarioFile.read(f);
      s.faults().forEach(x -> used.add(x.action()));
      random |= s.random().isPresent();
    }
    assertThat(used).as("a scenario for each action").containsExactlyInAnyOrder(Action.values());
    assertThat(random).as("a random nemesis").isTrue();
  }
}
