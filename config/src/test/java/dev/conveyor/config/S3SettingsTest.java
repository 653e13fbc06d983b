package dev.conveyor.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class S3SettingsTest {

  @Test
  void defaultsAreThoseOfReferenceConf() {
    S3Settings s = S3Settings.fromConfig(ConfigFactory.defaultReference());
    assertThat(s).isEqualTo(new S3Settings(Optional.empty(), "us-east-1", true, "", "", 16L << 20, 16, 10.0, 8L << 20,
        new S3Settings.Reads(8, 256L << 20, 10_000, 8, 100, 5_000, 16, 2_000, 600_000, 1)));
    assertThat(s.hasStaticCredentials()).isFalse();
  }

  @Test
  void everyKeyMapsToItsFieldAndTheSecretNeverPrints() {
    S3Settings s = S3Settings.fromConfig(ConfigFactory.parseString("""
        conveyor.s3 {
          endpoint = "http://127.0.0.1:9000"
          region = eu-west-1
          path-style = false
          access-key-id = AKIDEXAMPLE
          secret-access-key = very-secret-value
          part-size = 16MiB
          max-concurrency = 4
          target-throughput-gbps = 2.5
          read-buffer-size = 1MiB
          read { parts-in-flight = 2, memory-budget = 64MiB, stall-timeout = 3s }
          retry { max-attempts = 3, base-delay = 50ms, max-delay = 1s }
          breaker { failures = 5, open-time = 500ms, max-outage = 1m }
          min-concurrency = 2
        }""").withFallback(ConfigFactory.defaultReference()));
    assertThat(s).isEqualTo(new S3Settings(Optional.of(URI.create("http://127.0.0.1:9000")), "eu-west-1", false,
        "AKIDEXAMPLE", "very-secret-value", 16L << 20, 4, 2.5, 1L << 20,
        new S3Settings.Reads(2, 64L << 20, 3_000, 3, 50, 1_000, 5, 500, 60_000, 2)));
    assertThat(s.toString()).doesNotContain("very-secret-value").contains("AKIDEXAMPLE");
  }

  @Test
  void halfGivenCredentialsAndBadEndpointsFailNamingTheKey() {
    assertThatThrownBy(() -> S3Settings.fromConfig(ConfigFactory.parseString("conveyor.s3.access-key-id = x")
        .withFallback(ConfigFactory.defaultReference())))
        .isInstanceOf(SettingsException.class).hasMessageStartingWith("conveyor.s3.secret-access-key: is empty");
    assertThatThrownBy(() -> S3Settings.fromConfig(ConfigFactory.parseString("conveyor.s3.endpoint = \"ftp://x\"")
        .withFallback(ConfigFactory.defaultReference())))
        .hasMessageStartingWith("conveyor.s3.endpoint: must be an http:// or https:// URL");
    assertThatThrownBy(() -> S3Settings.fromConfig(ConfigFactory.parseString("conveyor.s3.part-size = 1KiB")
        .withFallback(ConfigFactory.defaultReference())))
        .hasMessageStartingWith("conveyor.s3.part-size: must be at least 65536 bytes");
  }
}
