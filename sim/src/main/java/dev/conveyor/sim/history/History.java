package dev.conveyor.sim.history;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.sim.history.Event.Attempt;
import dev.conveyor.sim.history.Event.Batch;
import dev.conveyor.sim.history.Event.Checkpoint;
import dev.conveyor.sim.history.Event.DeadLetter;
import dev.conveyor.sim.history.Event.Fault;
import dev.conveyor.sim.history.Event.Progress;
import dev.conveyor.streams.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A simulation's history: its events in the order they were recorded, read and written as JSON lines. */
public record History(List<Event> events) {
  public History {
    events = List.copyOf(events);
  }

  public <E extends Event> List<E> of(Class<E> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** One JSON object per line, each with its {@code type}. */
  public void write(Path file) throws IOException {
    StringBuilder s = new StringBuilder();
    for (Event e : events) {
      s.append(Json.compact(toJson(e))).append('\n');
    }
    Files.writeString(file, s, StandardCharsets.UTF_8);
  }

  public static History read(Path file) throws IOException {
    List<Event> events = new ArrayList<>();
    int n = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      try {
        events.add(fromJson(Json.parse(line)));
      } catch (RuntimeException e) {
        throw new IOException(file + " line " + n + ": not a history event (" + e.getMessage() + ")", e);
      }
    }
    return new History(events);
  }

  static ObjectNode toJson(Event e) {
    ObjectNode o = Json.object();
    if (e instanceof Attempt a) {
      o.put("type", "attempt").put("attempt", a.attempt()).put("t", a.t()).put("resume", a.resume())
          .put("resumed_from", a.resumedFrom()).put("fell_back", a.fellBack()).put("exit", a.exit())
          .put("cursor", a.cursor()).put("bad_samples", a.badSamples()).put("host_lost", a.hostLost());
    } else if (e instanceof Batch b) {
      o.put("type", "batch").put("attempt", b.attempt()).put("epoch", b.epoch()).put("rank", b.rank())
          .put("step", b.step()).put("digest", b.digest()).put("keys_digest", b.keysDigest());
      o.set("keys", Json.strings(b.keys()));
    } else if (e instanceof Checkpoint c) {
      o.put("type", "checkpoint").put("attempt", c.attempt()).put("t", c.t()).put("cursor", c.cursor());
    } else if (e instanceof DeadLetter d) {
      o.put("type", "dead-letter").put("attempt", d.attempt()).put("shard", d.shard()).put("key", d.key())
          .put("reason", d.reason());
    } else if (e instanceof Fault f) {
      o.put("type", "fault").put("t", f.t()).put("fault", f.fault()).put("action", f.action()).put("node", f.node())
          .put("applied", f.applied()).put("detail", f.detail());
    } else if (e instanceof Progress p) {
      o.put("type", "progress").put("t", p.t()).put("node", p.node()).put("role", p.role()).put("samples", p.samples());
    }
    return o;
  }

  static Event fromJson(JsonNode o) {
    String type = o.path("type").asText();
    return switch (type) {
      case "attempt" -> new Attempt(o.path("attempt").asInt(), o.path("t").asLong(), o.path("resume").asText(),
          o.path("resumed_from").asText(), o.path("fell_back").asText(), o.path("exit").asInt(), o.path("cursor").asText(),
          o.path("bad_samples").asLong(), o.path("host_lost").asBoolean());
      case "batch" -> {
        List<String> keys = new ArrayList<>();
        o.path("keys").forEach(k -> keys.add(k.asText()));
        yield new Batch(o.path("attempt").asInt(), o.path("epoch").asInt(), o.path("rank").asInt(), o.path("step").asLong(),
            o.path("digest").asText(), o.path("keys_digest").asText(), keys);
      }
      case "checkpoint" -> new Checkpoint(o.path("attempt").asInt(), o.path("t").asLong(), o.path("cursor").asText());
      case "dead-letter" -> new DeadLetter(o.path("attempt").asInt(), o.path("shard").asText(), o.path("key").asText(),
          o.path("reason").asText());
      case "fault" -> new Fault(o.path("t").asLong(), o.path("fault").asText(), o.path("action").asText(),
          o.path("node").asInt(), o.path("applied").asBoolean(), o.path("detail").asText());
      case "progress" -> new Progress(o.path("t").asLong(), o.path("node").asInt(), o.path("role").asText(),
          o.path("samples").asDouble());
      default -> throw new IllegalArgumentException("unknown type \"" + type + "\"");
    };
  }
}
