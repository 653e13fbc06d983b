package dev.conveyor.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeSettingsTest {

  @Test
  void defaultsAreASingleNodeWithBothRolesOnLoopback() {
    assertThat(NodeSettings.fromConfig(ConfigFactory.defaultReference()))
        .isEqualTo(new NodeSettings(List.of("worker", "trainer-host"), "127.0.0.1", 25520, List.of("127.0.0.1:25520"), 7000,
            "127.0.0.1", 7626, 0, Runtime.getRuntime().availableProcessors(), 8));
  }

  @Test
  void badRolesSeedsAndPortsFailNamingTheKey() {
    assertThatThrownBy(() -> NodeSettings.fromConfig(ConfigFactory.parseString("conveyor.node.roles = [gpu]")
        .withFallback(ConfigFactory.defaultReference())))
        .hasMessageStartingWith("conveyor.node.roles: must name worker, trainer-host or both");
    assertThatThrownBy(() -> NodeSettings.fromConfig(ConfigFactory.parseString("conveyor.node.seed-nodes = [\"pekko://x\"]")
        .withFallback(ConfigFactory.defaultReference())))
        .hasMessageStartingWith("conveyor.node.seed-nodes: lists host:port entries");
    assertThatThrownBy(() -> NodeSettings.fromConfig(ConfigFactory.parseString("conveyor.node.port = 70000")
        .withFallback(ConfigFactory.defaultReference())))
        .hasMessageStartingWith("conveyor.node.port: must be a TCP port");
    assertThatThrownBy(() -> NodeSettings.fromConfig(ConfigFactory.parseString("conveyor.node.http.port = 99999")
        .withFallback(ConfigFactory.defaultReference())))
        .hasMessageStartingWith("conveyor.node.http.port: must be a TCP port");
  }
}
