package dev.conveyor.sim.check;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.streams.json.Json;
import java.util.List;

/**
 * What the checker concluded: {@code ok} exactly when there is no violation. Faults the
 * nemesis could not apply are violations too (a scenario that did not happen passes nothing).
 */
public record Verdict(List<Violation> violations, List<String> faultsApplied, List<String> faultsNotApplied,
                      List<String> notes) {
  public Verdict {
    violations = List.copyOf(violations);
    faultsApplied = List.copyOf(faultsApplied);
    faultsNotApplied = List.copyOf(faultsNotApplied);
    notes = List.copyOf(notes);
  }

  /** One property the history broke: {@code kind} names it (duplicate, gap, reorder, changed-bytes, wrong-cursor, …). */
  public record Violation(String kind, String message) {
    @Override
    public String toString() {
      return kind + ": " + message;
    }
  }

  public boolean ok() {
    return violations.isEmpty();
  }

  /** The kinds of the violations, in order, each once. */
  public List<String> kinds() {
    return violations.stream().map(Violation::kind).distinct().toList();
  }

  /** {@code {"ok": …, "violations": [{"kind", "message"}…], "faults_applied": […], "faults_not_applied": […]}} */
  public ObjectNode toJson() {
    ObjectNode o = Json.object();
    o.put("ok", ok());
    ArrayNode v = o.putArray("violations");
    for (Violation x : violations) {
      v.addObject().put("kind", x.kind()).put("message", x.message());
    }
    o.set("faults_applied", Json.strings(faultsApplied));
    o.set("faults_not_applied", Json.strings(faultsNotApplied));
    o.set("notes", Json.strings(notes));
    return o;
  }
}
