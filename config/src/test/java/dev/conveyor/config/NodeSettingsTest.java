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
            "127.0.0.1", 7626, 0, Runtime.getRuntime().availableProcessors(), 8,
            new Membership("", "seed-nodes", "app=conveyor", "management", "conveyor", 3, "keep-majority", "conveyor-sbr",
                "0.0.0")));
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

  @Test
  void discoverySplitBrainAndVersionAreCheckedNamingTheKey() {
    assertThatThrownBy(() -> node("conveyor.node.discovery.method = dns"))
        .hasMessage("conveyor.node.discovery.method: must be one of [seed-nodes, kubernetes-api], got \"dns\"");
    assertThatThrownBy(() -> node("conveyor.node.split-brain.strategy = static"))
        .hasMessageStartingWith("conveyor.node.split-brain.strategy: must be one of [keep-majority, lease-majority]");
    assertThatThrownBy(() -> node("conveyor.node.app-version = latest"))
        .hasMessageStartingWith("conveyor.node.app-version: must be a version such as 1.4.0");
    assertThatThrownBy(() -> node("conveyor.node.split-brain.lease-name = SBR"))
        .hasMessageStartingWith("conveyor.node.split-brain.lease-name: must be a Kubernetes object name");
    assertThatThrownBy(() -> node("conveyor.node.discovery.required-contact-points = 0"))
        .hasMessageStartingWith("conveyor.node.discovery.required-contact-points: must be at least 1");
    Membership k8s = node("conveyor.node.discovery.method = kubernetes-api\n"
        + "conveyor.node.split-brain.strategy = lease-majority\nconveyor.node.app-version = \"1.4.0\"").membership();
    assertThat(k8s.kubernetes()).isTrue();
    assertThat(k8s.splitBrain()).isEqualTo(Membership.LEASE_MAJORITY);
    assertThat(k8s.appVersion()).isEqualTo("1.4.0");
  }

  private static NodeSettings node(String hocon) {
    return NodeSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()));
  }

}
