package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.optim.Optimizers;
import io.losswatch.core.problem.Problems;
import io.losswatch.core.schedule.Schedules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code GET /api/schema}: what the readers read, served; and the README's RunSpec tables held to it. */
class SchemaTest extends SharedServer {
  private static final Pattern ITEM = Pattern.compile("^`([^`]+)`\\s*(.*)$");

  @Test
  void theSchemaIsServedAndNamesEveryType() throws Exception {
    TestServer.Response r = server.get("/api/schema");
    assertEquals(200, r.status());
    assertTrue(r.contentType().startsWith("application/json"));
    Map<String, Object> s = r.json();
    assertEquals(List.of("run", "optimizers", "schedules", "problems", "lr_range", "sweep", "branch"), List.copyOf(s.keySet()));
    assertEquals(Optimizers.TYPES, List.copyOf(map(s.get("optimizers")).keySet()));
    assertEquals(Schedules.TYPES, List.copyOf(map(s.get("schedules")).keySet()));
    assertEquals(Problems.TYPES, List.copyOf(map(s.get("problems")).keySet()));
    Map<String, Object> lr = option(map(s.get("optimizers")).get("sgd"), "lr");
    assertEquals(Map.of("name", "lr", "kind", "number", "required", true, "must", "must be > 0"), without(lr, "default"));
    assertTrue(lr.containsKey("default") && lr.get("default") == null, "a required option has a null default: " + lr);
    assertEquals(1e-2, option(map(s.get("optimizers")).get("adamw"), "weight_decay").get("default"));
    // the learning-rate-free ones: their authors' names and defaults, and what an absent option means where no value says it
    Map<String, Object> optimizers = map(s.get("optimizers"));
    assertEquals(1.0, option(optimizers.get("prodigy"), "lr").get("default"));
    assertEquals("√beta2", option(optimizers.get("prodigy"), "beta3").get("default_text"));
    assertEquals("inf", option(optimizers.get("dadapt_adam"), "growth_rate").get("default_text"));
    assertEquals(false, option(optimizers.get("dadapt_adam"), "decouple").get("default"));
    assertEquals(true, option(optimizers.get("prodigy"), "decouple").get("default"));
    assertEquals(0.0025, option(optimizers.get("schedulefree_adamw"), "lr").get("default"));
    assertEquals(0.9, option(optimizers.get("schedulefree_sgd"), "momentum").get("default"));
    assertEquals(List.of("lr", "momentum", "weight_decay", "d0", "growth_rate"), names(optimizers.get("dadapt_sgd")));
    Map<String, Object> total = option(map(s.get("schedules")).get("onecycle"), "total_steps");
    assertEquals("the run's steps", total.get("default_text"));
    assertEquals(List.of("min", "max"), option(map(s.get("schedules")).get("plateau"), "mode").get("choices"));
    assertEquals("problems", option(s.get("run"), "problem").get("of"));
    assertEquals(List.of("on", "rewind", "lr_factor", "max_rewinds"), names(option(s.get("run"), "guard").get("options")));
    assertEquals(List.of("from", "to", "factor", "num"), names(option(s.get("sweep"), "lr").get("options")));
    assertEquals(List.of("base", "start_lr", "end_lr", "num_steps", "mode", "smooth", "stop_factor"), names(s.get("lr_range")));
    assertEquals(List.of("at_step", "lr_factor", "lr", "name"), names(s.get("branch")));
    assertEquals(405, server.post("/api/schema", "{}").status());
  }

  /** Each option the schema says is required is: a spec without it is refused for it, one with its stand-in is not. */
  @Test
  void whatTheSchemaRequiresTheReaderRequires() {
    Map<String, Object> s = RestApi.schema();
    for (var e : map(s.get("schedules")).entrySet()) {
      Map<String, Object> sched = new LinkedHashMap<>(Map.of("type", e.getKey()));
      for (Object o : (List<?>) e.getValue()) {
        Map<?, ?> opt = (Map<?, ?>) o;
        if (Boolean.TRUE.equals(opt.get("required"))) sched.put((String) opt.get("name"), standIn(opt));
      }
      Map<String, Object> spec = Map.of("problem", "quadratic", "optimizer", Map.of("type", "sgd", "lr", 0.001),
          "steps", 100.0, "schedule", sched);
      assertNotNull(RunSpec.from(Json.parse(Json.write(spec))), e.getKey());
      for (String required : sched.keySet()) {
        if (required.equals("type")) continue;
        Map<String, Object> less = new LinkedHashMap<>(sched);
        less.remove(required);
        Map<String, Object> bad = new LinkedHashMap<>(spec);
        bad.put("schedule", less);
        try {
          RunSpec.from(Json.parse(Json.write(bad)));
          throw new AssertionError(e.getKey() + " without " + required + " was accepted");
        } catch (SpecException x) {
          assertEquals("schedule." + required, x.field());
        }
      }
    }
  }

  @Test
  void theReadmesTablesAgreeWithTheSchema() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    Map<String, Object> s = RestApi.schema();
    List<String> wrong = new ArrayList<>();
    compare("optimizer", table(readme, "| optimizer | options (default) |", 1), map(s.get("optimizers")), wrong);
    compare("schedule", table(readme, "| schedule | torch | options (default) |", 2), map(s.get("schedules")), wrong);
    Map<String, String> problems = table(readme, "| problem | what | parameters |", 1);
    assertEquals(Problems.TYPES, List.copyOf(problems.keySet()), "the problems table lists every problem, in order");
    for (var e : map(s.get("problems")).entrySet()) {
      for (String name : names(e.getValue())) {
        if (!problems.get(e.getKey()).contains("`" + name + "`")) wrong.add("problem " + e.getKey() + ": no `" + name + "`");
      }
    }
    String runSpec = readme.substring(readme.indexOf("\n## RunSpec"), readme.indexOf("\n## Test"));
    for (String name : names(s.get("run"))) {
      if (!runSpec.contains("`" + name + "`")) wrong.add("run: the RunSpec section never names `" + name + "`");
    }
    assertTrue(wrong.isEmpty(), "README.md disagrees with GET /api/schema:\n" + String.join("\n", wrong));
  }

  /** Each README row's options, checked one by one against the schema's: names, required, defaults. */
  private static void compare(String what, Map<String, String> rows, Map<String, Object> schema, List<String> wrong) {
    if (!rows.keySet().equals(schema.keySet())) wrong.add(what + " types: README " + rows.keySet() + ", schema " + schema.keySet());
    for (var row : rows.entrySet()) {
      if (!schema.containsKey(row.getKey())) continue;
      Map<String, Map<?, ?>> options = new LinkedHashMap<>();
      for (Object o : (List<?>) schema.get(row.getKey())) options.put((String) ((Map<?, ?>) o).get("name"), (Map<?, ?>) o);
      String type = what + " " + row.getKey();
      List<String> seen = new ArrayList<>();
      for (String item : items(row.getValue())) {
        Matcher m = ITEM.matcher(item);
        if (!m.matches()) {
          wrong.add(type + ": cannot read \"" + item + "\"");
          continue;
        }
        String name = m.group(1);
        String rest = m.group(2).trim();
        seen.add(name);
        Map<?, ?> opt = options.get(name);
        if (opt == null) {
          wrong.add(type + ": README has `" + name + "`, the schema has not");
          continue;
        }
        boolean required = rest.startsWith("(required)");
        if (required != Boolean.TRUE.equals(opt.get("required"))) {
          wrong.add(type + "." + name + ": README says " + (required ? "" : "not ") + "required, the schema " + opt.get("required"));
        }
        if (required) continue;
        if (rest.startsWith("(")) {
          String text = rest.substring(1, rest.indexOf(')'));
          if (!text.equals(opt.get("default_text"))) {
            wrong.add(type + "." + name + ": README default (" + text + "), schema " + opt.get("default") + " / " + opt.get("default_text"));
          }
          continue;
        }
        Object readme = value(rest);
        if (!same(readme, opt.get("default"))) {
          wrong.add(type + "." + name + ": README default " + rest + ", schema " + Json.write(opt.get("default")));
        }
        if (rest.matches("\"[^\"]*\"( or \"[^\"]*\")+.*")) {
          List<String> choices = new ArrayList<>();
          Matcher q = Pattern.compile("\"([^\"]*)\"").matcher(rest);
          while (q.find()) choices.add(q.group(1));
          if (!choices.equals(opt.get("choices"))) wrong.add(type + "." + name + ": README choices " + choices + ", schema " + opt.get("choices"));
        }
      }
      for (String name : options.keySet()) {
        if (!seen.contains(name)) wrong.add(type + ": the schema has `" + name + "`, README has not");
      }
    }
  }

  /** A table's rows by the type in their first cell (`sgd`), the cell {@code column} of each. */
  private static Map<String, String> table(String readme, String header, int column) {
    int at = readme.indexOf(header);
    assertTrue(at >= 0, "README.md has a table headed " + header);
    Map<String, String> rows = new LinkedHashMap<>();
    String[] lines = readme.substring(at).split("\n");
    for (int i = 2; i < lines.length && lines[i].startsWith("|"); i++) {
      String[] cells = lines[i].split("\\|", -1);
      String type = cells[1].trim();
      assertTrue(type.matches("`\\w+`"), "a row's first cell is a `type`: " + lines[i]);
      rows.put(type.substring(1, type.length() - 1), cells[column + 1].trim());
    }
    return rows;
  }

  /** A cell's items: split at the commas outside brackets, parentheses and quotes. */
  private static List<String> items(String cell) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    boolean quoted = false;
    StringBuilder b = new StringBuilder();
    for (char c : cell.toCharArray()) {
      if (c == '"') quoted = !quoted;
      if (!quoted && (c == '[' || c == '(')) depth++;
      if (!quoted && (c == ']' || c == ')')) depth--;
      if (c == ',' && depth == 0 && !quoted) {
        out.add(b.toString().trim());
        b.setLength(0);
      } else {
        b.append(c);
      }
    }
    if (!b.toString().isBlank()) out.add(b.toString().trim());
    return out;
  }

  /** The value a README item gives first: [numbers], "string", true, false, a number or a fraction (1/3). */
  private static Object value(String rest) {
    if (rest.startsWith("[")) {
      List<Object> l = new ArrayList<>();
      for (String x : rest.substring(1, rest.indexOf(']')).split(",")) l.add(value(x.trim()));
      return l;
    }
    if (rest.startsWith("\"")) return rest.substring(1, rest.indexOf('"', 1));
    String token = rest.split("\\s+")[0];
    if (token.equals("true") || token.equals("false")) return Boolean.valueOf(token);
    if (token.matches("\\d+/\\d+")) {
      String[] f = token.split("/");
      return Double.parseDouble(f[0]) / Double.parseDouble(f[1]);
    }
    try {
      return Double.parseDouble(token);
    } catch (NumberFormatException e) {
      return token;
    }
  }

  private static boolean same(Object readme, Object schema) {
    if (readme instanceof Double a && schema instanceof Number b) return Math.abs(a - b.doubleValue()) <= 1e-12 * Math.abs(a);
    if (readme instanceof List<?> a && schema instanceof List<?> b) {
      if (a.size() != b.size()) return false;
      for (int i = 0; i < a.size(); i++) if (!same(a.get(i), b.get(i))) return false;
      return true;
    }
    return readme.equals(schema);
  }

  /** A value that passes a required option's check, for a spec that gives it. */
  private static Object standIn(Map<?, ?> opt) {
    return switch ((String) opt.get("kind")) {
      case "integers" -> List.of(10.0);
      case "integer" -> 10.0;
      case "number" -> 2.0;
      default -> throw new AssertionError("no stand-in for " + opt);
    };
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> option(Object options, String name) {
    for (Object o : (List<?>) options) if (name.equals(((Map<?, ?>) o).get("name"))) return (Map<String, Object>) o;
    throw new AssertionError("no option " + name + " in " + options);
  }

  private static List<String> names(Object options) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) options) out.add((String) ((Map<?, ?>) o).get("name"));
    return out;
  }

  private static Map<String, Object> without(Map<String, Object> m, String key) {
    Map<String, Object> out = new LinkedHashMap<>(m);
    out.remove(key);
    return out;
  }
}
