package dev.conveyor.config;

import static dev.conveyor.config.JobSettingsTest.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheSettingsTest {
  @Test
  void defaultsAreThoseOfReferenceConfAndEveryKeyMapsToItsField() {
    assertThat(CacheSettings.fromConfig(with(""))).isEqualTo(new CacheSettings(false, "", 10L << 30, "plan", 1L << 30,
        Map.of(), 50, 1000, 2, 1024, 30_000, 2L << 30));
    CacheSettings c = CacheSettings.fromConfig(with("""
        conveyor.node.cache {
          enabled = true, dir = /mnt/cache, bytes = 5GiB, policy = lru, max-entry-bytes = 64MiB
          quotas { vision = 1GiB, text-team = 2GiB }
          s3-gets-per-second = 12.5, same-object-interval = 2s, prefetch-bytes = 0
          cluster { replication = 3, slots = 64, peer-timeout = 5s }
        }"""));
    assertThat(c).isEqualTo(new CacheSettings(true, "/mnt/cache", 5L << 30, "lru", 64L << 20,
        Map.of("vision", 1L << 30, "text-team", 2L << 30), 12.5, 2000, 3, 64, 5000, 0));
  }

  @Test
  void aBadPolicyOrTenantNameIsRefusedNamingTheKey() {
    assertThatThrownBy(() -> CacheSettings.fromConfig(with("conveyor.node.cache.policy = belady")))
        .hasMessage("conveyor.node.cache.policy: must be plan, lru or fifo, got \"belady\"");
    assertThatThrownBy(() -> CacheSettings.fromConfig(with("conveyor.node.cache.quotas { \"a b\" = 1GiB }")))
        .hasMessageStartingWith("conveyor.node.cache.quotas: tenant names are letters, digits, - and _");
  }
}
