package dev.conveyor.tools.pack;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.streams.json.Json;
import dev.conveyor.streams.sample.WebDatasetKeys;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What {@code conveyor pack} packs: a folder's files grouped into samples by the WebDataset key
 * rule (sorted by key), or the samples a JSONL file lists one per line
 * ({@code {"key": "cats/0001", "jpg": "img/0001.jpg", "cls": "labels/0001.cls"}}, paths relative to
 * the file, in line order). Each file is checked readable here, so that what cannot be packed is
 * known — and reported, each with its reason — before any shard is written; a sample with a
 * member that cannot be packed is left out whole.
 */
public final class PackInput {
  /** One file of a sample: it becomes the tar member {@code key.ext}. */
  public record Member(String ext, Path file, long size, long modified) {}

  /** One sample: its key and members, members sorted by extension. */
  public record Sample(String key, List<Member> members) {
    public String memberName(Member m) {
      return key + "." + m.ext();
    }
  }

  /** Something left out, and why. */
  public record Problem(String what, String reason) {
    public String line() {
      return what + ": " + reason;
    }
  }

  private final List<Sample> samples;
  private final List<Problem> problems;

  private PackInput(List<Sample> samples, List<Problem> problems) {
    this.samples = List.copyOf(samples);
    this.problems = List.copyOf(problems);
  }

  public List<Sample> samples() {
    return samples;
  }

  public List<Problem> problems() {
    return problems;
  }

  /** {@code in}: a folder, or a {@code .jsonl} file. Throws IllegalArgumentException when it is neither. */
  public static PackInput read(Path in) throws IOException {
    if (Files.isDirectory(in)) {
      return folder(in);
    }
    if (Files.isRegularFile(in) && in.getFileName().toString().endsWith(".jsonl")) {
      return jsonl(in);
    }
    throw new IllegalArgumentException(in + " is neither a folder nor a .jsonl file");
  }

  /** Every file under {@code dir} (links to files followed, to folders not), grouped by key. */
  static PackInput folder(Path dir) throws IOException {
    List<Problem> problems = new ArrayList<>();
    Map<String, Map<String, Member>> byKey = new TreeMap<>();
    Set<String> spoiled = new HashSet<>();
    Map<String, String> foldedKeys = new HashMap<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
    }
    for (Path f : files) {
      String name = dir.relativize(f).toString().replace('\\', '/');
      StringBuilder whyNot = new StringBuilder();
      if (!printable(name)) {
        problems.add(new Problem(escaped(name), "a control character in the name: left out"));
        continue;
      }
      var split = WebDatasetKeys.split(name, whyNot);
      if (split.isEmpty()) {
        problems.add(new Problem(name, whyNot.toString().replace(": skipped", ": left out")));
        continue;
      }
      String key = split.get().key();
      String same = foldedKeys.putIfAbsent(key.toLowerCase(Locale.ROOT), key);
      if (same != null && !same.equals(key)) {
        problems.add(new Problem(name, "duplicate key: " + key + " differs from " + same
            + " only in case (they collide on case-insensitive file systems): left out"));
        continue;
      }
      addMember(byKey, spoiled, key, split.get().ext(), f, name, problems);
    }
    return new PackInput(samples(byKey, spoiled), problems);
  }

  /** The samples a JSONL file lists, in line order. */
  static PackInput jsonl(Path file) throws IOException {
    List<Problem> problems = new ArrayList<>();
    Map<String, Map<String, Member>> byKey = new LinkedHashMap<>();
    Set<String> spoiled = new HashSet<>();
    Map<String, Integer> lineOf = new HashMap<>();
    Path base = file.toAbsolutePath().getParent();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      String where = file.getFileName() + " line " + (i + 1);
      if (line.isEmpty()) {
        continue;
      }
      JsonNode j = Json.parseOrMissing(line);
      if (!j.isObject()) {
        problems.add(new Problem(where, "not a JSON object: left out"));
        continue;
      }
      String key = j.path("key").asText("");
      String bad = badKey(key);
      if (bad != null) {
        problems.add(new Problem(where, bad + ": left out"));
        continue;
      }
      Integer first = lineOf.putIfAbsent(key, i + 1);
      if (first != null) {
        problems.add(new Problem(where, "duplicate key " + key + " (first on line " + first + "): left out"));
        continue;
      }
      Map<String, Member> members = new TreeMap<>();
      byKey.put(key, members);
      for (Iterator<Map.Entry<String, JsonNode>> it = j.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("key")) {
          continue;
        }
        if (!e.getValue().isTextual() || e.getKey().isEmpty() || !printable(e.getKey()) || e.getKey().contains("/")) {
          problems.add(new Problem(where, "member \"" + escaped(e.getKey()) + "\" is not an extension naming a file path"
              + " (e.g. \"jpg\": \"img/0001.jpg\"): the sample is left out"));
          spoiled.add(key);
          continue;
        }
        addMember(byKey, spoiled, key, e.getKey(), base.resolve(e.getValue().asText()), key + "." + e.getKey(), problems);
      }
      if (byKey.get(key).isEmpty() && !spoiled.contains(key)) {
        problems.add(new Problem(where, "sample " + key + " names no member: left out"));
        byKey.remove(key);
      }
    }
    return new PackInput(samples(byKey, spoiled), problems);
  }

  /** Why {@code key} cannot be a WebDataset key, or null. */
  private static String badKey(String key) {
    if (key.isEmpty()) {
      return "no \"key\"";
    }
    if (!printable(key)) {
      return "key \"" + escaped(key) + "\" has a control character";
    }
    String base = key.substring(key.lastIndexOf('/') + 1);
    if (base.isEmpty() || base.contains(".")) {
      return "key \"" + key + "\" has a dot in (or nothing as) its last segment: readers would split it there";
    }
    if (key.startsWith("/") || key.equals("..") || key.startsWith("../") || key.contains("/../")) {
      return "key \"" + key + "\" is absolute or climbs with ..";
    }
    return null;
  }

  /** Adds {@code file} as {@code key}'s {@code ext}, or records why it cannot be (the sample then is left out). */
  private static void addMember(Map<String, Map<String, Member>> byKey, Set<String> spoiled, String key, String ext,
                                Path file, String name, List<Problem> problems) {
    Map<String, Member> members = byKey.computeIfAbsent(key, k -> new TreeMap<>());
    for (String had : members.keySet()) {
      if (had.equalsIgnoreCase(ext)) {
        problems.add(new Problem(name, "duplicate member: " + key + "." + had + " and " + key + "." + ext
            + " differ only in case: the sample is left out"));
        spoiled.add(key);
        return;
      }
    }
    try {
      if (!Files.isRegularFile(file)) {
        throw new IOException(Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.exists(file)
            ? "a link to nothing" : Files.exists(file) ? "not a regular file" : "no such file");
      }
      try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
        members.put(ext, new Member(ext, file, c.size(), Files.getLastModifiedTime(file).toMillis()));
      }
    } catch (IOException | SecurityException e) {
      String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
          : e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage();
      problems.add(new Problem(name, "unreadable file " + file + " (" + why + "): the sample is left out"));
      spoiled.add(key);
    }
  }

  /** The samples whose members could all be read, each said to be left out otherwise. */
  private static List<Sample> samples(Map<String, Map<String, Member>> byKey, Set<String> spoiled) {
    List<Sample> out = new ArrayList<>(byKey.size());
    byKey.forEach((key, members) -> {
      if (!spoiled.contains(key)) {
        out.add(new Sample(key, List.copyOf(members.values())));
      }
    });
    return out;
  }

  private static boolean printable(String s) {
    return s.codePoints().noneMatch(c -> c < 0x20 || c == 0x7f);
  }

  private static String escaped(String s) {
    StringBuilder b = new StringBuilder();
    s.codePoints().forEach(c -> b.append(c < 0x20 || c == 0x7f ? String.format(Locale.ROOT, "\\x%02x", c)
        : new String(Character.toChars(c))));
    return b.toString();
  }
}
