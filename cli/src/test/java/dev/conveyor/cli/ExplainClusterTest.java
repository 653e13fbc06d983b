package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import org.junit.jupiter.api.Test;

/**
 * {@code explain --cluster}'s text: each worker's pools, or why it cannot host them and where its
 * samples go instead. (The JSON against a real cluster: ClusterPoolsTest.)
 */
class ExplainClusterTest {
  @Test
  void theClusterPartNamesEachWorkersPoolsOrWhyItCannotHostThemAndWhereItsSamplesGo() throws Exception {
    JsonNode c = Json.parse("""
        {"seed": "127.0.0.1:25520", "nodes": [
          {"node": "pekko://conveyor@127.0.0.1:1", "roles": ["trainer-host"], "offers": "cpus=2", "cpuSlots": 2},
          {"node": "pekko://conveyor@127.0.0.1:2", "roles": ["worker"], "offers": "cpus=4, gpus=1", "cpuSlots": 4,
           "decoders": 4, "pools": [{"stage": "caption#1", "limit": 2}]},
          {"node": "pekko://conveyor@127.0.0.1:3", "roles": ["worker"], "offers": "cpus=4", "cpuSlots": 4,
           "decoders": 4, "cannotHost": "the stage caption#1 asks cpus=1, gpus=1 per actor"}],
         "readers": ["pekko://conveyor@127.0.0.1:2", "pekko://conveyor@127.0.0.1:3"],
         "poolHosts": ["pekko://conveyor@127.0.0.1:2"]}""");
    String text = ExplainCluster.text(c);
    assertThat(text).contains("127.0.0.1:2 [\"worker\"], offers cpus=4, gpus=1: reads with 4 decoder(s), caption#1 up to 2"
        + " actor(s)").contains("127.0.0.1:3 [\"worker\"], offers cpus=4: reads with 4 decoder(s), its samples sent to the"
        + " pools of [\"pekko://conveyor@127.0.0.1:2\"] (the stage caption#1")
        .doesNotContain("would be refused");
  }
}
