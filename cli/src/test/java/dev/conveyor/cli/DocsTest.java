package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What a newcomer reads holds: in the README, CONTRIBUTING.md and every page under docs/, each
 * relative link reaches a file (and a heading, when it names one), each {@code bin/conveyor}
 * command line parses as the CLI would parse it, each configuration key named exists in
 * {@code reference.conf}, and docs/configuration.md lists every key there is.
 */
class DocsTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Pattern LINK = Pattern.compile("!?\\[(?:[^\\]\\[]|\\[[^\\]]*\\])*\\]\\(([^)\\s]+)\\)");
  static final Pattern KEY = Pattern.compile("(?<![\\w.\\-/])conveyor(?:\\.[a-z0-9][a-z0-9-]*)+");
  static final Pattern INLINE = Pattern.compile("`([^`\\n]+)`");

  /** README.md, CONTRIBUTING.md and docs/**.md. */
  static List<Path> pages() throws IOException {
    List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("CONTRIBUTING.md")));
    try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    return pages;
  }

  /** A page's text outside fenced code blocks, and inside them, line by line (fence lines dropped). */
  record Page(Path path, List<String> prose, List<String> code) {
    static Page read(Path p) throws IOException {
      List<String> prose = new ArrayList<>();
      List<String> code = new ArrayList<>();
      boolean fenced = false;
      for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
        if (line.stripLeading().startsWith("```")) {
          fenced = !fenced;
          continue;
        }
        (fenced ? code : prose).add(line);
      }
      return new Page(p, prose, code);
    }

    String name() {
      return ROOT.relativize(path).toString();
    }
  }

  @Test
  void everyRelativeLinkReachesAFileAndItsHeading() throws IOException {
    List<String> broken = new ArrayList<>();
    int links = 0;
    for (Path p : pages()) {
      Page page = Page.read(p);
      for (String line : page.prose()) {
        Matcher m = LINK.matcher(line.replaceAll("`[^`]*`", "``"));
        while (m.find()) {
          String target = m.group(1);
          if (target.matches("^[a-z]+:.*")) {
            continue; // http:, https:, mailto:
          }
          links++;
          int hash = target.indexOf('#');
          String file = hash < 0 ? target : target.substring(0, hash);
          Path to = file.isEmpty() ? p : p.getParent().resolve(file).normalize();
          if (!Files.exists(to)) {
            broken.add(page.name() + ": " + target + " (no such file)");
          } else if (hash >= 0 && to.toString().endsWith(".md")
              && !anchors(to).contains(target.substring(hash + 1))) {
            broken.add(page.name() + ": " + target + " (no such heading in " + ROOT.relativize(to) + ")");
          }
        }
      }
    }
    assertThat(links).isGreaterThan(20);
    assertThat(broken).as("links that lead nowhere").isEmpty();
  }

  @Test
  void everyCommandLineParses() throws IOException {
    List<String> bad = new ArrayList<>();
    int lines = 0;
    for (Path p : pages()) {
      Page page = Page.read(p);
      List<String> commands = new ArrayList<>(commandsIn(joinContinued(page.code())));
      for (String line : page.prose()) {
        Matcher m = INLINE.matcher(line);
        while (m.find()) {
          if (m.group(1).startsWith("bin/conveyor ") || m.group(1).equals("bin/conveyor")) {
            commands.add(m.group(1));
          }
        }
      }
      for (String c : commands) {
        lines++;
        List<String> args = words(c);
        try {
          new CommandLine(new ConveyorCli()).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
          bad.add(page.name() + ": " + c + "\n    " + e.getMessage());
        }
      }
    }
    assertThat(lines).isGreaterThan(20);
    assertThat(bad).as("command lines the CLI refuses").isEmpty();
  }

  @Test
  void everyConfigurationKeyNamedExistsAndEveryKeyIsDocumented() throws IOException {
    // reference.conf alone (defaultReference() would lay system properties over it)
    Config reference = ConfigFactory.parseResources(DocsTest.class.getClassLoader(), "reference.conf").resolve();
    Set<String> sections = reference.getObject("conveyor").keySet();
    List<String> unknown = new ArrayList<>();
    for (Path p : pages()) {
      Page page = Page.read(p);
      for (String line : concat(page.prose(), page.code())) {
        Matcher m = KEY.matcher(line);
        while (m.find()) {
          String key = m.group().replaceAll("[.-]+$", "");
          String[] parts = key.split("\\.");
          // conveyor.torch and the like are the Python package's modules, not configuration
          if (parts.length > 1 && sections.contains(parts[1]) && !reference.hasPathOrNull(key)) {
            unknown.add(page.name() + ": " + key);
          }
        }
      }
    }
    assertThat(unknown).as("keys that are not in reference.conf").isEmpty();

    String table = String.join("\n", Page.read(ROOT.resolve("docs/configuration.md")).prose());
    Set<String> listed = listedKeys(table);
    Set<String> missing = new TreeSet<>();
    leaves("conveyor", reference.getObject("conveyor"), missing);
    missing.removeIf(k -> listed.contains(k) || listed.stream().anyMatch(l -> k.startsWith(l + ".")));
    assertThat(missing).as("keys of reference.conf that docs/configuration.md does not list").isEmpty();
  }

  /** Keys in configuration.md's tables: a full key, then {@code .more} shorthands for its siblings. */
  static Set<String> listedKeys(String text) {
    Set<String> keys = new TreeSet<>();
    for (String row : text.split("\n")) {
      if (!row.startsWith("| `conveyor.")) {
        continue;
      }
      String cell = row.split("\\|")[1];
      String parent = null;
      Matcher m = INLINE.matcher(cell);
      while (m.find()) {
        String k = m.group(1);
        if (k.startsWith("conveyor.")) {
          keys.add(k);
          parent = k.substring(0, k.lastIndexOf('.'));
        } else if (k.startsWith(".") && parent != null) {
          keys.add(parent + k);
        }
      }
    }
    return keys;
  }

  static void leaves(String path, ConfigObject o, Set<String> out) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String key = path + "." + e.getKey();
      if (e.getValue().valueType() == ConfigValueType.OBJECT && !((ConfigObject) e.getValue()).isEmpty()) {
        leaves(key, (ConfigObject) e.getValue(), out);
      } else {
        out.add(key);
      }
    }
  }

  /** GitHub's anchors for a page's headings. */
  static Set<String> anchors(Path md) throws IOException {
    Set<String> out = new TreeSet<>();
    for (String line : Page.read(md).prose()) {
      if (line.startsWith("#")) {
        String h = line.replaceFirst("^#+\\s*", "").toLowerCase(Locale.ROOT);
        out.add(h.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
      }
    }
    return out;
  }

  /** Code lines with their {@code \}-continued lines joined. */
  static List<String> joinContinued(List<String> code) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : code) {
      if (line.endsWith("\\")) {
        cur.append(line, 0, line.length() - 1).append(' ');
      } else {
        out.add(cur.append(line).toString());
        cur.setLength(0);
      }
    }
    if (cur.length() > 0) {
      out.add(cur.toString());
    }
    return out;
  }

  /** The {@code bin/conveyor} commands in shell lines: from there to a comment, pipe, redirect or list operator. */
  static List<String> commandsIn(List<String> lines) {
    List<String> out = new ArrayList<>();
    Pattern start = Pattern.compile("(?:^|[\\s;&|(])(bin/conveyor(?:\\s|$))");
    for (String line : lines) {
      String l = line.stripLeading().startsWith("#") ? "" : line.replaceFirst("^\\s*\\$\\s+", "");
      Matcher m = start.matcher(l);
      int from = 0;
      while (m.find(from)) {
        String rest = l.substring(m.start(1));
        String cmd = cut(rest);
        out.add(cmd.strip());
        from = m.start(1) + cmd.length();
        if (from >= l.length()) {
          break;
        }
      }
    }
    return out;
  }

  /** {@code s} up to its first unquoted comment, pipe, redirect, {@code ;}, {@code &} or {@code )}. */
  static String cut(String s) {
    char quote = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        quote = c == quote ? 0 : quote;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '|' || c == ';' || c == '&' || c == '>' || c == '<' || c == ')'
          || (c == '#' && i > 0 && Character.isWhitespace(s.charAt(i - 1)))) {
        return s.substring(0, i);
      }
    }
    return s;
  }

  /** Shell words: whitespace-separated, quotes removed. */
  static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean in = false;
    char quote = 0;
    for (char c : s.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          w.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        in = true;
      } else if (Character.isWhitespace(c)) {
        if (in) {
          out.add(w.toString());
          w.setLength(0);
          in = false;
        }
      } else {
        w.append(c);
        in = true;
      }
    }
    if (in) {
      out.add(w.toString());
    }
    return out;
  }

  static List<String> concat(List<String> a, List<String> b) {
    return Stream.concat(a.stream(), b.stream()).collect(Collectors.toList());
  }
}
