package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import io.losswatch.core.problem.Problems;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The docs held to the code, without a server: every route the router has is in {@code docs/rest.md} and every
 * route there is the router's; every option {@code GET /api/schema} serves is in {@code docs/runspec.md}'s tables
 * with its default and its check, and nothing else is; every relative link in the README and {@code docs/} leads
 * to a file, and to a heading in it.
 */
class DocsTest {
  private static final Path REST = Path.of("docs/rest.md");
  private static final Path RUNSPEC = Path.of("docs/runspec.md");
  /** A route's heading in rest.md: {@code ### `POST /api/runs/{id}/steps`}. */
  private static final Pattern ROUTE_HEADING = Pattern.compile("(?m)^#{2,4} `([A-Z]+) (/[^`\\s]*)`");
  private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
  private static final Pattern ITEM = Pattern.compile("^`([^`]+)`\\s*(.*)$");
  /** The per-option tables of runspec.md, by their first header cell, and the schema list each describes. */
  private static final Map<String, String> OPTION_TABLES = Map.of(
      "RunSpec", "run",
      "`POST /api/lr-range`", "lr_range",
      "`POST /api/sweeps`", "sweep",
      "`POST /api/runs/{id}/branch`", "branch");

  @Test
  void restMdListsEveryRouteTheServerHasAndNoOther() throws Exception {
    Set<String> served = routes();
    Set<String> documented = new TreeSet<>();
    Matcher m = ROUTE_HEADING.matcher(Files.readString(REST));
    while (m.find()) assertTrue(documented.add(m.group(1) + " " + m.group(2)), "rest.md has " + m.group() + " twice");
    Set<String> missing = new TreeSet<>(served);
    missing.removeAll(documented);
    Set<String> extra = new TreeSet<>(documented);
    extra.removeAll(served);
    assertTrue(missing.isEmpty() && extra.isEmpty(), "docs/rest.md and the router disagree:\n  served, not documented: "
        + missing + "\n  documented, not served: " + extra);
    assertTrue(served.contains("POST /api/runs/{id}/apply-advice") && served.contains("GET /metrics"), "" + served);
  }

  /** What the server answers: the router's routes with a method and a path of their own, and the WebSocket. */
  private static Set<String> routes() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      WebConfig config = new WebConfig("127.0.0.1", 0, List.of(), List.of(), null, false, 1, 1, () -> "", new AtomicInteger(), null, new java.util.concurrent.atomic.AtomicLong(), null);
      Router router = HttpVerticle.router(vertx, null, config, HostPolicy.of("127.0.0.1", List.of()), new OriginPolicy(List.of()));
      Set<String> out = new TreeSet<>();
      for (Route r : router.getRoutes()) {
        // handlers for every route (no method), and the page's files (a prefix or a pattern): not routes of their own
        if (r.methods() == null || r.methods().isEmpty() || r.getPath() == null || r.getPath().endsWith("/")) continue;
        for (HttpMethod method : r.methods()) out.add(method.name() + " " + r.getPath().replaceAll(":(\\w+)", "{$1}"));
      }
      out.add("GET " + StreamGateway.PATH);   // the upgrade, answered before the router
      return out;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void runspecMdHasEveryOptionOfTheSchemaWithItsDefaultAndCheck() throws Exception {
    String doc = Files.readString(RUNSPEC);
    Map<String, Object> s = RestApi.schema();
    List<String> wrong = new ArrayList<>();
    compareTypes("optimizer", table(doc, "| optimizer | options (default) |", 1), map(s.get("optimizers")), wrong);
    compareTypes("schedule", table(doc, "| schedule | torch | options (default) |", 2), map(s.get("schedules")), wrong);
    Map<String, String> problems = table(doc, "| problem | what | parameters |", 1);
    assertEquals(Problems.TYPES, List.copyOf(problems.keySet()), "the problems table lists every problem, in order");
    for (var e : map(s.get("problems")).entrySet()) {
      for (Object o : (List<?>) e.getValue()) {
        String name = (String) ((Map<?, ?>) o).get("name");
        if (!problems.get(e.getKey()).contains("`" + name + "`")) wrong.add("problem " + e.getKey() + ": no `" + name + "`");
      }
    }
    Set<String> lists = new HashSet<>(s.keySet());
    lists.removeAll(List.of("optimizers", "schedules", "problems"));
    assertEquals(lists, Set.copyOf(OPTION_TABLES.values()), "a table in runspec.md for each body the schema describes");
    Matcher header = Pattern.compile("(?m)^\\| ([^|]+) \\| default \\| check \\|[^|]*\\|$").matcher(doc);
    Set<String> seen = new HashSet<>();
    while (header.find()) {
      String key = OPTION_TABLES.get(header.group(1));
      if (key == null) {
        wrong.add("runspec.md: a table headed " + header.group(1) + " describes no part of the schema");
        continue;
      }
      seen.add(key);
      compareOptions(header.group(1), rows(doc.substring(header.start())), flatten("", s.get(key)), wrong);
    }
    for (var e : OPTION_TABLES.entrySet()) if (!seen.contains(e.getValue())) wrong.add("runspec.md has no table headed " + e.getKey());
    assertTrue(wrong.isEmpty(), "docs/runspec.md disagrees with GET /api/schema:\n" + String.join("\n", wrong));
  }

  @Test
  void everyRelativeLinkLeadsToAFileAndAHeading() throws IOException {
    List<Path> docs = new ArrayList<>(List.of(Path.of("README.md"), Path.of("BENCHMARKS.md"), Path.of("clients/python/README.md")));
    try (Stream<Path> files = Files.list(Path.of("docs"))) {
      files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    assertTrue(docs.size() >= 10, "the READMEs, BENCHMARKS and docs/*.md: " + docs);
    List<String> wrong = new ArrayList<>();
    int links = 0;
    for (Path doc : docs) {
      Matcher m = LINK.matcher(prose(Files.readString(doc)));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*")) continue;   // http:, https:, mailto:
        links++;
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path to = file.isEmpty() ? doc : doc.toAbsolutePath().getParent().resolve(file).normalize();
        if (!Files.exists(to)) {
          wrong.add(doc + ": " + target + " (no " + to + ")");
        } else if (hash >= 0 && !(Files.isRegularFile(to) && anchors(Files.readString(to)).contains(target.substring(hash + 1)))) {
          wrong.add(doc + ": " + target + " (no such heading in " + file + ")");
        }
      }
    }
    assertTrue(links >= 20, "links checked: " + links);
    assertTrue(wrong.isEmpty(), "broken links:\n" + String.join("\n", wrong));
  }

  /** Markdown as rendered text goes: without fenced blocks and code spans, where brackets are not links. */
  private static String prose(String md) {
    return md.replaceAll("(?ms)^```.*?^```", "").replaceAll("`[^`\n]*`", "");
  }

  /** The anchors GitHub makes for a file's headings: lower case, punctuation dropped, spaces to '-', repeats -1, -2. */
  private static Set<String> anchors(String md) {
    Set<String> out = new HashSet<>();
    Map<String, Integer> count = new LinkedHashMap<>();
    Matcher h = Pattern.compile("(?m)^#{1,6} (.+)$").matcher(md.replaceAll("(?ms)^```.*?^```", ""));
    while (h.find()) {
      String slug = h.group(1).trim().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
      int n = count.merge(slug, 1, Integer::sum);
      out.add(n == 1 ? slug : slug + "-" + (n - 1));
    }
    return out;
  }

  /** A schema list's options by dotted name ({@code guard.rewind}), an object's own options after it. */
  private static Map<String, Map<?, ?>> flatten(String prefix, Object options) {
    Map<String, Map<?, ?>> out = new LinkedHashMap<>();
    for (Object o : (List<?>) options) {
      Map<?, ?> opt = (Map<?, ?>) o;
      out.put(prefix + opt.get("name"), opt);
      if (opt.get("options") != null) out.putAll(flatten(prefix + opt.get("name") + ".", opt.get("options")));
    }
    return out;
  }

  /** A per-option table's rows: the option's name, its default cell and its check cell. */
  private static List<String[]> rows(String from) {
    List<String[]> out = new ArrayList<>();
    String[] lines = from.split("\n");
    for (int i = 2; i < lines.length && lines[i].startsWith("|"); i++) {
      String[] cells = lines[i].split(" \\| ", -1);
      String name = cells[0].substring(1).trim();
      out.add(new String[] {name.replace("`", ""), cells.length > 1 ? cells[1].trim() : "", cells.length > 2 ? cells[2].trim() : ""});
    }
    return out;
  }

  /**
   * Each row against its option: {@code (required)}, {@code —} (no default), {@code (what its absence means)} or
   * the default's value, and the check as an error says it ({@code must be > 0}), empty where there is none.
   */
  private static void compareOptions(String table, List<String[]> rows, Map<String, Map<?, ?>> schema, List<String> wrong) {
    List<String> seen = new ArrayList<>();
    for (String[] row : rows) {
      String name = row[0];
      String def = row[1];
      seen.add(name);
      Map<?, ?> opt = schema.get(name);
      if (opt == null) {
        wrong.add(table + ": `" + name + "` is not in the schema");
        continue;
      }
      boolean required = Boolean.TRUE.equals(opt.get("required"));
      Object text = opt.get("default_text");
      if (def.equals("(required)") != required) wrong.add(table + " " + name + ": " + def + ", the schema says required " + required);
      else if (required) {
        // nothing more to say of the default
      } else if (text != null) {
        if (!def.equals("(" + text + ")")) wrong.add(table + " " + name + ": default " + def + ", the schema (" + text + ")");
      } else if (opt.get("default") == null) {
        if (!def.equals("—")) wrong.add(table + " " + name + ": default " + def + ", the schema has none (—)");
      } else if (!same(value(def), opt.get("default"))) {
        wrong.add(table + " " + name + ": default " + def + ", the schema " + Json.write(opt.get("default")));
      }
      if (def.matches("\"[^\"]*\"( or \"[^\"]*\")+")) {
        List<String> choices = new ArrayList<>();
        Matcher q = Pattern.compile("\"([^\"]*)\"").matcher(def);
        while (q.find()) choices.add(q.group(1));
        if (!choices.equals(opt.get("choices"))) wrong.add(table + " " + name + ": choices " + choices + ", the schema " + opt.get("choices"));
      }
      String must = opt.get("must") == null ? "" : (String) opt.get("must");
      if (!row[2].equals(must)) wrong.add(table + " " + name + ": check \"" + row[2] + "\", the schema \"" + must + "\"");
    }
    for (String name : schema.keySet()) if (!seen.contains(name)) wrong.add(table + ": the schema has `" + name + "`, the table has not");
  }

  /** Each row's options (one row a type), checked one by one against the schema's: names, required, defaults. */
  private static void compareTypes(String what, Map<String, String> rows, Map<String, Object> schema, List<String> wrong) {
    if (!List.copyOf(rows.keySet()).equals(List.copyOf(schema.keySet()))) {
      wrong.add(what + " types: runspec.md " + rows.keySet() + ", schema " + schema.keySet());
    }
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
          wrong.add(type + ": runspec.md has `" + name + "`, the schema has not");
          continue;
        }
        boolean required = rest.startsWith("(required)");
        if (required != Boolean.TRUE.equals(opt.get("required"))) {
          wrong.add(type + "." + name + ": runspec.md says " + (required ? "" : "not ") + "required, the schema " + opt.get("required"));
        }
        if (required) continue;
        if (rest.startsWith("(")) {
          String text = rest.substring(1, rest.indexOf(')'));
          if (!text.equals(opt.get("default_text"))) {
            wrong.add(type + "." + name + ": runspec.md default (" + text + "), schema " + opt.get("default") + " / " + opt.get("default_text"));
          }
          continue;
        }
        if (!same(value(rest), opt.get("default"))) {
          wrong.add(type + "." + name + ": runspec.md default " + rest + ", schema " + Json.write(opt.get("default")));
        }
        if (rest.matches("\"[^\"]*\"( or \"[^\"]*\")+.*")) {
          List<String> choices = new ArrayList<>();
          Matcher q = Pattern.compile("\"([^\"]*)\"").matcher(rest);
          while (q.find()) choices.add(q.group(1));
          if (!choices.equals(opt.get("choices"))) wrong.add(type + "." + name + ": runspec.md choices " + choices + ", schema " + opt.get("choices"));
        }
      }
      for (String name : options.keySet()) {
        if (!seen.contains(name)) wrong.add(type + ": the schema has `" + name + "`, runspec.md has not");
      }
    }
  }

  /** A table's rows by the type in their first cell (`sgd`), the cell {@code column} of each. */
  private static Map<String, String> table(String doc, String header, int column) {
    int at = doc.indexOf(header);
    assertTrue(at >= 0, "runspec.md has a table headed " + header);
    Map<String, String> rows = new LinkedHashMap<>();
    String[] lines = doc.substring(at).split("\n");
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

  /** The value a cell gives first: [values], "string", true, false, a number or a fraction (1/3). */
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

  private static boolean same(Object doc, Object schema) {
    if (doc instanceof Double a && schema instanceof Number b) return Math.abs(a - b.doubleValue()) <= 1e-12 * Math.abs(a);
    if (doc instanceof List<?> a && schema instanceof List<?> b) {
      if (a.size() != b.size()) return false;
      for (int i = 0; i < a.size(); i++) if (!same(a.get(i), b.get(i))) return false;
      return true;
    }
    return doc.equals(schema);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }
}
