package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import dev.conveyor.config.Membership;
import dev.conveyor.config.NodeSettings;
import dev.conveyor.config.S3Settings;
import dev.conveyor.orchestrator.node.ClusterNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Kubernetes files (k8s/) agree with the code: each overlay, rendered by {@code kubectl
 * kustomize} and read with fabric8's model, has selectors that match the labels they mean,
 * ports, probes and discovery that match the node config in its ConfigMap (read by the node's own
 * settings parser), RBAC that grants discovery and the lease and nothing else, and no secret value
 * written anywhere; the Dockerfile's entrypoint and ports are the CLI's and the config's; the
 * job and datagen manifests' arguments parse as the CLI's; and every metric the Grafana dashboard
 * queries is on a running node's /metrics.
 */
class KubernetesManifestsTest {
  private static final Path K8S = Path.of("..", "k8s");
  private static final Set<String> SECRET_NAMES = Set.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");

  @Test
  void theDevOverlayIsConsistentAndRunsTheEmbeddedS3ServerOverAVolume() throws Exception {
    Rendered dev = render("dev");
    checkNodes(dev, "conveyor-dev");
    assertThat(dev.one(StatefulSet.class, "conveyor").getSpec().getReplicas()).as("3 worker nodes").isEqualTo(3);
    Deployment s3 = dev.one(Deployment.class, "conveyor-s3");
    Container server = s3.getSpec().getTemplate().getSpec().getContainers().get(0);
    parses(server.getArgs());
    assertThat(server.getArgs()).containsSubsequence("--host", "0.0.0.0").containsSubsequence("--port", "9000");
    assertThat(s3.getSpec().getTemplate().getSpec().getVolumes()).anySatisfy(v ->
        assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("conveyor-s3-data"));
    Service s3Service = dev.one(Service.class, "conveyor-s3");
    assertThat(matches(s3Service.getSpec().getSelector(), labels(s3.getSpec().getTemplate()))).isTrue();
    assertThat(dev.endpoint()).as("the nodes' S3 endpoint is the server's Service")
        .isEqualTo("http://conveyor-s3:" + s3Service.getSpec().getPorts().get(0).getPort());
    Job datagen = dev.one(Job.class, "conveyor-datagen");
    parses(datagen.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
    assertThat(isContactPoint(dev, datagen.getSpec().getTemplate())).isFalse();
    assertThat(isContactPoint(dev, s3.getSpec().getTemplate())).isFalse();
  }

  @Test
  void theProdOverlayTakesTheEndpointFromTheConfigMapAndRequiresTheCredentialsSecret() throws Exception {
    Rendered prod = render("prod");
    checkNodes(prod, "conveyor");
    for (StatefulSet s : prod.all(StatefulSet.class)) {
      Container c = s.getSpec().getTemplate().getSpec().getContainers().get(0);
      assertThat(c.getImage()).startsWith("registry.example.com/conveyor:");
      for (EnvVar e : c.getEnv()) {
        if (SECRET_NAMES.contains(e.getName())) {
          assertThat(e.getValueFrom().getSecretKeyRef().getOptional()).as(e.getName() + " is required in prod").isFalse();
        }
      }
    }
    NetworkPolicy policy = prod.one(NetworkPolicy.class, "conveyor");
    assertThat(policy.getSpec().getIngress()).anySatisfy(rule -> {
      assertThat(rule.getFrom()).allSatisfy(p -> assertThat(p.getNamespaceSelector()).isNotNull());
      assertThat(rule.getPorts()).allSatisfy(p -> assertThat(p.getPort().getStrVal()).isEqualTo("management"));
    });
  }

  @Test
  void remotingIsTlsInProdPlainOnlyInDevAndTheStoresPasswordAndTokenComeFromSecrets() throws Exception {
    Job job = Serialization.unmarshal(Files.readString(K8S.resolve("job/job.yaml")), Job.class);
    for (String overlay : List.of("prod", "dev")) {
      Rendered r = render(overlay);
      Map<String, String> data = r.one(ConfigMap.class, "conveyor-node").getData();
      boolean prod = overlay.equals("prod");
      assertThat(data).as(overlay).containsEntry("tls-enabled", Boolean.toString(prod))
          .containsEntry("tls-allow-plain-tcp", Boolean.toString(!prod));
      // the strings read as the settings' booleans: dev may listen on 0.0.0.0 in plain TCP
      dev.conveyor.config.TlsSettings off = dev.conveyor.config.TlsSettings.fromConfig(ConfigFactory.parseMap(Map.of(
          "conveyor.tls.allow-plain-tcp", data.get("tls-allow-plain-tcp"))).withFallback(ConfigFactory.defaultReference()));
      assertThat(off.allowPlainTcp()).as(overlay).isEqualTo(!prod);
      List<io.fabric8.kubernetes.api.model.PodTemplateSpec> pods = new ArrayList<>();
      r.all(StatefulSet.class).forEach(st -> pods.add(st.getSpec().getTemplate()));
      pods.add(job.getSpec().getTemplate());
      for (io.fabric8.kubernetes.api.model.PodTemplateSpec pod : pods) {
        Container c = pod.getSpec().getContainers().get(0);
        Map<String, EnvVar> env = new HashMap<>();
        c.getEnv().forEach(e -> env.put(e.getName(), e));
        String where = overlay + " " + c.getName() + " of " + pod.getMetadata().getLabels();
        assertThat(env.get("CONVEYOR_TLS_ENABLED").getValueFrom().getConfigMapKeyRef().getKey()).as(where).isEqualTo("tls-enabled");
        assertThat(env.get("CONVEYOR_TLS_ALLOW_PLAIN_TCP").getValueFrom().getConfigMapKeyRef().getKey())
            .as(where).isEqualTo("tls-allow-plain-tcp");
        for (String password : List.of("CONVEYOR_TLS_KEY_STORE_PASSWORD", "CONVEYOR_TLS_TRUST_STORE_PASSWORD")) {
          assertThat(env.get(password).getValue()).as(where + " " + password + " is no literal").isNull();
          assertThat(env.get(password).getValueFrom().getSecretKeyRef().getName()).as(where).isEqualTo("conveyor-tls");
        }
        // the stores are files of the Secret conveyor-tls, mounted where the variables point
        String tlsVolume = pod.getSpec().getVolumes().stream().filter(v -> v.getSecret() != null
            && v.getSecret().getSecretName().equals("conveyor-tls")).findFirst().orElseThrow().getName();
        String mount = c.getVolumeMounts().stream().filter(m -> m.getName().equals(tlsVolume)).findFirst().orElseThrow()
            .getMountPath();
        assertThat(env.get("CONVEYOR_TLS_KEY_STORE").getValue()).as(where).isEqualTo(mount + "/node.p12");
        assertThat(env.get("CONVEYOR_TLS_TRUST_STORE").getValue()).as(where).isEqualTo(mount + "/truststore.p12");
        assertThat(pod.getSpec().getSecurityContext().getFsGroup()).as(where + ": the Secret's files readable by the pod's group")
            .isEqualTo(pod.getSpec().getSecurityContext().getRunAsGroup());
        if (!pod.getMetadata().getLabels().get("app").equals("conveyor-client")) {
          assertThat(env.get("CONVEYOR_HTTP_TOKEN").getValueFrom().getSecretKeyRef().getName()).as(where).isEqualTo("conveyor-http");
        }
      }
    }
  }

  @Test
  void theJobManifestJoinsThroughTheFirstWorkerAndParsesAsTheCli() throws Exception {
    Rendered dev = render("dev");
    Job job = Serialization.unmarshal(Files.readString(K8S.resolve("job/job.yaml")), Job.class);
    Container run = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    CommandLine.ParseResult parsed = parses(run.getArgs());
    assertThat(parsed.subcommand().commandSpec().name()).isEqualTo("run");
    StatefulSet workers = dev.one(StatefulSet.class, "conveyor");
    Map<String, String> env = run.getEnv().stream().filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    String seed = run.getArgs().get(run.getArgs().indexOf("--cluster") + 1);
    assertThat(seed).isEqualTo("$(CONVEYOR_SEED)");
    // the first worker's remoting address, as node.conf makes it from the pod's name and namespace
    Config node = dev.nodeConfig(workers.getMetadata().getName() + "-0", "conveyor-dev");
    NodeSettings n = NodeSettings.fromConfig(node);
    assertThat(env.get("CONVEYOR_SEED").replace("$(POD_NAMESPACE)", "conveyor-dev"))
        .isEqualTo(n.hostname() + ":" + n.port());
    assertThat(workers.getSpec().getServiceName()).isEqualTo("conveyor");
    // a failed run is retried and the retry resumes from the newest cursor; exits 2 and 3 would fail again
    assertThat(job.getSpec().getBackoffLimit()).as("a failed run is retried").isPositive();
    assertThat(run.getArgs()).as("a retry resumes, never restarts from the start").contains("--resume-or-start")
        .contains("--checkpoint-dir");
    var rule = job.getSpec().getPodFailurePolicy().getRules().get(0);
    assertThat(rule.getAction()).isEqualTo("FailJob");
    assertThat(rule.getOnExitCodes().getValues()).containsExactlyInAnyOrder(2, 3);
    assertThat(rule.getOnExitCodes().getContainerName()).isEqualTo(run.getName());
    // the job's arguments are a command line the CLI takes
    new picocli.CommandLine(new ConveyorCli()).parseArgs(run.getArgs().toArray(String[]::new));
    assertThat(isContactPoint(dev, job.getSpec().getTemplate())).as("the client is not a contact point").isFalse();
    assertThat(admittedByPolicy(dev.one(NetworkPolicy.class, "conveyor"), labels(job.getSpec().getTemplate())))
        .as("the nodes' NetworkPolicy lets the job's client in").isTrue();
    noInlineSecrets(run);
    assertThat(run.getArgs()).contains("conveyor.node.hostname=$(POD_IP)");
  }

  @Test
  void theDockerfileRunsTheNodeCommandWithThePortsOfTheConfigAsAUserThatIsNotRoot() throws Exception {
    List<String> lines = Files.readAllLines(K8S.resolve("Dockerfile"));
    List<String> froms = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertThat(froms).as("multi-stage: a build, then a JRE").hasSize(2);
    assertThat(froms.get(0)).endsWith(" AS build");
    assertThat(froms.get(1)).contains("jre");
    List<String> last = lines.subList(lines.indexOf(froms.get(1)), lines.size());
    ObjectMapper json = new ObjectMapper();
    List<String> entrypoint = List.of(json.readValue(instruction(last, "ENTRYPOINT"), String[].class));
    List<String> cmd = List.of(json.readValue(instruction(last, "CMD"), String[].class));
    assertThat(entrypoint.get(0)).isEqualTo("java");
    assertThat(entrypoint).anyMatch(a -> a.startsWith("-XX:MaxRAMPercentage="));
    String jar = entrypoint.get(entrypoint.indexOf("-jar") + 1);
    assertThat(instruction(last, "COPY")).isEqualTo("--from=build /src/cli/target/conveyor.jar " + jar);
    // the jar the build stage copies is the one the CLI's build makes (the shade plugin's finalName)
    assertThat(Files.readString(Path.of("pom.xml"))).contains("<finalName>conveyor</finalName>");
    assertThat(Files.readString(Path.of("..", "bin", "conveyor"))).contains("jar=\"$here/cli/target/conveyor.jar\"");
    assertThat(parses(cmd).subcommand().commandSpec().name()).isEqualTo("node");
    Config reference = ConfigFactory.defaultReference();
    NodeSettings defaults = NodeSettings.fromConfig(reference);
    Set<Integer> exposed = new TreeSet<>();
    for (String p : instruction(last, "EXPOSE").split("\\s+")) {
      exposed.add(Integer.parseInt(p));
    }
    assertThat(exposed).containsExactlyInAnyOrder(defaults.port(), defaults.httpPort());
    String user = instruction(last, "USER");
    assertThat(user).doesNotStartWith("0").doesNotStartWith("root");
    // the image's version is the nodes' app-version: VERSION -> CONVEYOR_APP_VERSION -> conveyor.node.app-version
    assertThat(instruction(last, "ENV")).isEqualTo("CONVEYOR_APP_VERSION=${VERSION}");
    Config withVersion = ConfigFactory.parseResourcesAnySyntax("reference.conf")
        .withFallback(ConfigFactory.parseMap(Map.of("CONVEYOR_APP_VERSION", "2.7.1"))).resolve(ConfigResolveOptions.noSystem());
    assertThat(withVersion.getString("conveyor.node.app-version")).isEqualTo("2.7.1");
    // the pods run it with the ConfigMap mounted where CMD looks
    Rendered dev = render("dev");
    StatefulSet workers = dev.one(StatefulSet.class, "conveyor");
    Container c = workers.getSpec().getTemplate().getSpec().getContainers().get(0);
    String mount = c.getVolumeMounts().get(0).getMountPath();
    assertThat(cmd.get(1)).isEqualTo(mount + "/node.conf");
    assertThat(c.getArgs()).isEqualTo(cmd);
  }

  @Test
  void everyMetricTheDashboardQueriesIsOnARunningNodesMetrics(@TempDir Path dir) throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(K8S.resolve("grafana/conveyor-dashboard.json").toFile());
    Set<String> queried = new TreeSet<>();
    Pattern metric = Pattern.compile("\\b((?:conveyor|jvm)_[a-z0-9_]+)\\b");
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        Matcher m = metric.matcher(target.get("expr").asText());
        while (m.find()) {
          queried.add(m.group(1));
        }
      }
    }
    assertThat(queried).as("the issue's panels").contains("conveyor_decoder_samples_total", "conveyor_feeder_stall_ratio",
        "conveyor_store_requests_total", "conveyor_store_failed_reads_total", "conveyor_decoder_dead_letters_total",
        "conveyor_leases_reassigned_total", "conveyor_coordinator_takeovers_total", "conveyor_cache_hits_total");

    // a worker and trainer host with its shard cache on, as a pod would run it, serving HTTP
    Config config = ConfigFactory.parseString(String.format("""
        conveyor.node { port = 0, seed-nodes = [], http { port = 0 }, cache { enabled = true, dir = "%s" } }
        """, dir.resolve("cache"))).withFallback(ConfigFactory.load()).resolve();
    NodeSettings n = NodeSettings.fromConfig(config);
    ActorSystem<?> system = ClusterNode.start(n, S3Settings.fromConfig(config), config);
    try {
      String url = ClusterNode.serveHttp(system, n).orElseThrow();
      // the node's agent registers its cache as it starts, after the HTTP server may already answer: scrape until
      // the node has started (its cache's families are there), for up to 15 s
      Set<String> families = new HashSet<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      do {
        String scraped = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url.replaceAll("/?$", "/")
            + "metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        families.clear();
        for (String line : scraped.split("\n")) {
          if (line.startsWith("# TYPE ")) {
            families.add(line.split(" ")[2]);
          }
        }
        if (!families.contains("conveyor_cache_hits_total")) {
          Thread.sleep(100);
        }
      } while (!families.contains("conveyor_cache_hits_total") && System.nanoTime() < deadline);
      assertThat(families).as("metric families on /metrics").containsAll(queried);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** What every overlay must hold for its node pods. */
  private static void checkNodes(Rendered r, String namespace) {
    List<StatefulSet> sets = r.all(StatefulSet.class);
    assertThat(sets).extracting(s -> s.getMetadata().getName()).containsExactlyInAnyOrder("conveyor", "conveyor-trainer");
    for (HasMetadata o : r.objects) {
      assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " " + o.getMetadata().getName() + "'s namespace")
          .isEqualTo(namespace);
    }
    ConfigMap cm = r.one(ConfigMap.class, "conveyor-node");
    assertThat(cm.getData()).containsKeys("node.conf", "s3-endpoint");
    Service headless = r.one(Service.class, "conveyor");
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
    ServiceAccount account = r.one(ServiceAccount.class, "conveyor");
    Role role = r.one(Role.class, "conveyor");
    RoleBinding binding = r.one(RoleBinding.class, "conveyor");
    rbacIsExactlyDiscoveryAndTheLease(role);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(account.getMetadata().getName());
      assertThat(s.getNamespace()).isEqualTo(namespace);
    });
    PodDisruptionBudget pdb = r.one(PodDisruptionBudget.class, "conveyor");
    NetworkPolicy policy = r.one(NetworkPolicy.class, "conveyor");
    for (StatefulSet s : sets) {
      String where = "StatefulSet " + s.getMetadata().getName();
      PodTemplateSpec t = s.getSpec().getTemplate();
      Map<String, String> labels = labels(t);
      assertThat(matches(s.getSpec().getSelector(), labels)).as(where + ": its selector matches its pods").isTrue();
      assertThat(s.getSpec().getServiceName()).isEqualTo(headless.getMetadata().getName());
      assertThat(matches(headless.getSpec().getSelector(), labels)).as(where + ": the headless Service selects it").isTrue();
      assertThat(matches(pdb.getSpec().getSelector(), labels)).as(where + ": the PodDisruptionBudget covers it").isTrue();
      assertThat(matches(policy.getSpec().getPodSelector(), labels)).as(where + ": the NetworkPolicy guards it").isTrue();
      assertThat(admittedByPolicy(policy, labels)).as(where + ": its peers reach it").isTrue();
      assertThat(s.getSpec().getPodManagementPolicy()).as(where + ": all pods start at once (bootstrap needs them)")
          .isEqualTo("Parallel");
      PodSpec spec = t.getSpec();
      assertThat(spec.getServiceAccountName()).isEqualTo(account.getMetadata().getName());
      assertThat(spec.getSecurityContext().getRunAsNonRoot()).isTrue();
      Container c = spec.getContainers().get(0);
      NodeSettings n = NodeSettings.fromConfig(r.nodeConfigFor(c, s.getMetadata().getName() + "-0", namespace));
      Membership m = n.membership();
      assertThat(c.getName()).as(where + ": the container discovery checks").isEqualTo(m.containerName());
      assertThat(isContactPoint(r, t)).as(where + ": its pods are contact points").isTrue();
      Map<String, Integer> ports = c.getPorts().stream().collect(Collectors.toMap(ContainerPort::getName,
          ContainerPort::getContainerPort));
      assertThat(ports).as(where + ": named ports = the node config's").containsEntry("remoting", n.port())
          .containsEntry(m.portName(), n.httpPort());
      for (var p : policy.getSpec().getIngress().get(0).getPorts()) {
        assertThat(ports).as(where + ": the NetworkPolicy's ports exist").containsKey(p.getPort().getStrVal());
      }
      Config pekko = ConfigFactory.load();
      assertThat(c.getReadinessProbe().getHttpGet().getPath())
          .isEqualTo("/" + pekko.getString("pekko.management.health-checks.readiness-path"));
      assertThat(c.getLivenessProbe().getHttpGet().getPath())
          .isEqualTo("/" + pekko.getString("pekko.management.health-checks.liveness-path"));
      assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo(m.portName());
      assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo(m.portName());
      assertThat(m.kubernetes()).as(where + ": Kubernetes API discovery").isTrue();
      assertThat(m.splitBrain()).isEqualTo(Membership.LEASE_MAJORITY);
      assertThat(n.hostname()).as("the stable name under the headless Service")
          .isEqualTo(s.getMetadata().getName() + "-0." + headless.getMetadata().getName() + "." + namespace + ".svc");
      assertThat(m.bindHostname()).isEqualTo("0.0.0.0");
      // time to hand leases back (the coordinated shutdown's 15 s before leaving) and leave
      assertThat(spec.getTerminationGracePeriodSeconds()).as(where + ": termination grace").isGreaterThanOrEqualTo(30L);
      var resources = c.getResources();
      assertThat(resources.getLimits()).as(where + ": no CPU limit").doesNotContainKey("cpu").containsKey("memory");
      assertThat(resources.getRequests().get("memory")).as(where + ": memory requested = limit")
          .isEqualTo(resources.getLimits().get("memory"));
      assertThat(io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(resources.getLimits().get("memory")).longValue())
          .as(where + ": memory for the node's bounded buffers").isGreaterThanOrEqualTo(2L << 30);
      assertThat(c.getEnv()).anySatisfy(e -> {
        assertThat(e.getName()).isEqualTo("S3_ENDPOINT");
        assertThat(e.getValueFrom().getConfigMapKeyRef().getName()).isEqualTo(cm.getMetadata().getName());
        assertThat(cm.getData()).containsKey(e.getValueFrom().getConfigMapKeyRef().getKey());
      });
      for (String secret : SECRET_NAMES) {
        assertThat(c.getEnv()).anySatisfy(e -> {
          assertThat(e.getName()).isEqualTo(secret);
          assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("conveyor-s3");
        });
      }
      noInlineSecrets(c);
      parses(c.getArgs());
    }
    assertThat(r.all(Secret.class)).as("no Secret in the manifests: the operator creates it").isEmpty();
    S3Settings s3 = S3Settings.fromConfig(r.nodeConfig("conveyor-0", namespace));
    assertThat(s3.accessKeyId()).as("no key in the node config").isEmpty();
    assertThat(s3.secretAccessKey()).isEmpty();
    // the lease the split-brain resolver takes is the kind of object the Role lets it take
    Config lease = ClusterNode.pekko("h", 1, List.of(), List.of(), 1000,
        NodeSettings.fromConfig(r.nodeConfig("conveyor-0", namespace)).membership(), ConfigFactory.empty());
    assertThat(lease.getString("pekko.coordination.lease.kubernetes.lease-class")).endsWith(".NativeKubernetesLease");
  }

  /** The Role: pods get/watch/list (discovery), coordination.k8s.io leases get/create/update (the lease); nothing else. */
  private static void rbacIsExactlyDiscoveryAndTheLease(Role role) {
    Map<String, Set<String>> granted = new HashMap<>();
    for (PolicyRule rule : role.getRules()) {
      assertThat(rule.getResourceNames()).as("no resource names").isNullOrEmpty();
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          granted.computeIfAbsent(group + "/" + resource, k -> new TreeSet<>()).addAll(rule.getVerbs());
        }
      }
    }
    assertThat(granted).isEqualTo(Map.of(
        "/pods", Set.of("get", "watch", "list"),
        "coordination.k8s.io/leases", Set.of("get", "create", "update")));
  }

  private static void noInlineSecrets(Container c) {
    for (EnvVar e : c.getEnv()) {
      if (e.getName().matches(".*(ACCESS_KEY|SECRET|PASSWORD|TOKEN).*")) {
        assertThat(e.getValue()).as(c.getName() + ": " + e.getName() + " has no value written inline").isNull();
        assertThat(e.getValueFrom().getSecretKeyRef()).as(e.getName() + " comes from a Secret").isNotNull();
      }
    }
    for (String a : c.getArgs()) {
      assertThat(a).as("no credential in the arguments").doesNotContain("access-key-id=").doesNotContain("secret-access-key=");
    }
  }

  /** Whether discovery (node.conf's label selector) lists pods of {@code t}. */
  private static boolean isContactPoint(Rendered r, PodTemplateSpec t) {
    String selector = NodeSettings.fromConfig(r.nodeConfig("conveyor-0", "ns")).membership().podLabelSelector();
    Map<String, String> wanted = new HashMap<>();
    for (String pair : selector.split(",")) {
      String[] kv = pair.split("=", 2);
      wanted.put(kv[0].trim(), kv[1].trim());
    }
    return labels(t).entrySet().containsAll(wanted.entrySet());
  }

  private static boolean admittedByPolicy(NetworkPolicy policy, Map<String, String> labels) {
    for (var rule : policy.getSpec().getIngress()) {
      for (NetworkPolicyPeer peer : rule.getFrom()) {
        if (peer.getNamespaceSelector() == null && peer.getPodSelector() != null && matches(peer.getPodSelector(), labels)) {
          return true;
        }
      }
    }
    return false;
  }

  private static Map<String, String> labels(PodTemplateSpec t) {
    return t.getMetadata().getLabels();
  }

  private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    return !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
  }

  private static boolean matches(LabelSelector selector, Map<String, String> labels) {
    boolean any = false;
    if (selector.getMatchLabels() != null && !selector.getMatchLabels().isEmpty()) {
      any = true;
      if (!labels.entrySet().containsAll(selector.getMatchLabels().entrySet())) {
        return false;
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (var e : selector.getMatchExpressions()) {
        any = true;
        assertThat(e.getOperator()).as("only In is used here").isEqualTo("In");
        if (!e.getValues().contains(labels.get(e.getKey()))) {
          return false;
        }
      }
    }
    return any;
  }

  /** Parses {@code args} as the CLI would (unknown options, missing values and bad numbers fail). */
  private static CommandLine.ParseResult parses(List<String> args) {
    return new CommandLine(new ConveyorCli()).parseArgs(args.toArray(String[]::new));
  }

  private static String instruction(List<String> lines, String name) {
    List<String> found = lines.stream().filter(l -> l.startsWith(name + " ")).toList();
    assertThat(found).as("one " + name + " in the final stage").hasSize(1);
    return found.get(0).substring(name.length() + 1).trim();
  }

  /** An overlay rendered by {@code kubectl kustomize}, read into fabric8's model. */
  private static Rendered render(String overlay) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("kubectl", "kustomize", K8S.resolve("overlays").resolve(overlay).toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String yaml = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize k8s/overlays/" + overlay).isZero();
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---$")) {
      if (!doc.isBlank()) {
        objects.add(Serialization.unmarshal(doc));
      }
    }
    return new Rendered(objects);
  }

  private record Rendered(List<HasMetadata> objects) {
    <T extends HasMetadata> List<T> all(Class<T> kind) {
      return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> kind, String name) {
      List<T> found = all(kind).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
      assertThat(found).as(kind.getSimpleName() + " " + name).hasSize(1);
      return found.get(0);
    }

    String endpoint() {
      return one(ConfigMap.class, "conveyor-node").getData().get("s3-endpoint");
    }

    /** node.conf as a pod named {@code pod} reads it, over the reference config. */
    Config nodeConfig(String pod, String namespace) {
      Map<String, String> env = Map.of("POD_NAME", pod, "POD_NAMESPACE", namespace, "POD_IP", "10.1.2.3",
          "S3_ENDPOINT", endpoint());
      // the environment at the root, where ${?VAR} looks before the process's environment
      return ConfigFactory.parseString(one(ConfigMap.class, "conveyor-node").getData().get("node.conf"))
          .withFallback(ConfigFactory.defaultReference()).withFallback(ConfigFactory.parseMap(env))
          .resolve(ConfigResolveOptions.noSystem());
    }

    /** The config {@code c} runs with: node.conf and its {@code --set} arguments. */
    Config nodeConfigFor(Container c, String pod, String namespace) {
      Config config = nodeConfig(pod, namespace);
      List<String> args = c.getArgs();
      for (int i = 0; i < args.size() - 1; i++) {
        if (args.get(i).equals("--set")) {
          config = ConfigFactory.parseString(args.get(i + 1)).withFallback(config).resolve();
        }
      }
      return config;
    }
  }
}
