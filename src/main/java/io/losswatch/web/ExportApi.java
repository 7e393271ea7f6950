package io.losswatch.web;

import io.losswatch.core.config.Json;
import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import io.losswatch.run.RunManager;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code GET /api/export?runs=a,b&format=csv|json}: runs' histories (every step, every metric) with their configs,
 * in one file. CSV is one row per step of each run, its config repeated in columns (a table pandas or a
 * spreadsheet groups by run); JSON is each run's summary, its column names and its rows. Streamed in chunks read and
 * formatted off the event loop, at the client's pace.
 */
final class ExportApi {
  /** Steps read and written at once. */
  private static final int CHUNK = 1 << 14;
  private static final List<String> STEP_COLUMNS = List.of("step", "loss", "lr", "grad_norm", "t");
  private final RunManager manager;

  ExportApi(RunManager manager) {
    this.manager = manager;
  }

  void mount(Router router) {
    router.get("/api/export").handler(this::export);
  }

  private void export(RoutingContext ctx) {
    String format = ctx.queryParams().get("format") == null ? "json" : ctx.queryParams().get("format");
    if (!format.equals("csv") && !format.equals("json")) {
      throw new ApiError(400, "format: csv or json, got " + Json.write(format), "format");
    }
    List<Run> runs = runs(ctx.queryParams().get("runs"));
    String name = runs.size() == 1 ? runs.get(0).id() : "losswatch-" + runs.size() + "-runs";
    ctx.response().setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, format.equals("csv") ? "text/csv; charset=utf-8" : RestApi.JSON)
        .putHeader("Content-Disposition", "attachment; filename=\"" + name + "." + format + "\"");
    ctx.vertx().executeBlocking(() -> plan(runs, format.equals("csv")), false)
        .onSuccess(p -> next(ctx, p, 0, 1, true))
        .onFailure(ctx::fail);
  }

  /** The runs named (comma-separated ids; none: every run), each once, in the order given; an unknown id is a 404. */
  private List<Run> runs(String ids) {
    if (ids == null || ids.isBlank()) return List.copyOf(manager.runs().all());
    Set<String> seen = new LinkedHashSet<>();
    for (String id : ids.split(",")) if (!id.isBlank()) seen.add(id.strip());
    if (seen.isEmpty()) throw new ApiError(400, "runs: comma-separated run ids, got " + Json.write(ids), "runs");
    List<Run> out = new ArrayList<>();
    for (String id : seen) out.add(manager.runs().get(id).orElseThrow(() -> ApiError.notFound(id)));
    return out;
  }

  /**
   * What the export writes: each run's summary, config columns (CSV: the union of every run's flattened spec),
   * metric names and last step, all fixed before the first byte goes out.
   */
  private record Plan(List<Run> runs, List<String> summaries, List<Map<String, Object>> configs, List<String> configColumns,
      List<List<String>> metrics, List<String> metricColumns, List<Long> last, boolean csv) {
  }

  private static Plan plan(List<Run> runs, boolean csv) {
    List<String> summaries = new ArrayList<>();
    List<Map<String, Object>> configs = new ArrayList<>();
    Set<String> configColumns = new TreeSet<>();
    List<List<String>> metrics = new ArrayList<>();
    Set<String> metricColumns = new LinkedHashSet<>();
    List<Long> last = new ArrayList<>();
    for (Run r : runs) {
      summaries.add(io.losswatch.web.Json.summary(r.summary(), r.metricStats()));
      Map<String, Object> flat = new LinkedHashMap<>();
      flatten("", r.summary().spec().json(), flat);
      for (String k : List.of("name", "source", "tags", "notes")) flat.remove(k);
      configs.add(flat);
      configColumns.addAll(flat.keySet());
      // another node's run: the metrics its owner told of (each that has had a value), as it keeps none of its steps
      List<String> m = r.local() ? r.history().metrics() : List.copyOf(r.metricStats().keySet());
      metrics.add(m);
      metricColumns.addAll(m);
      last.add(r.lastStep());   // another node's: as its summary says
    }
    return new Plan(runs, summaries, configs, List.copyOf(configColumns), metrics, List.copyOf(metricColumns), last, csv);
  }

  /** A spec's scalars by dotted path ({@code optimizer.lr}); a list as its JSON text. */
  static void flatten(String prefix, Object v, Map<String, Object> out) {
    if (v instanceof Map<?, ?> m) {
      for (var e : m.entrySet()) flatten(prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey(), e.getValue(), out);
    } else if (!prefix.isEmpty()) {
      out.put(prefix, v instanceof List<?> ? Json.write(v) : v);
    }
  }

  /** Writes run {@code k}'s steps from {@code from} on, a chunk at a time (the next one once this one is taken). */
  private void next(RoutingContext ctx, Plan p, int k, long from, boolean first) {
    if (ctx.response().closed()) return;
    if (k == p.runs.size()) {
      ctx.response().end(p.csv ? (first ? csvHeader(p) : "") : first ? "{\"runs\":[]}" : "]}]}");
      return;
    }
    Run run = p.runs.get(k);
    long last = p.last.get(k);
    // another node's run is read from the node that owns it, a chunk at a time as this one's
    manager.steps().read(run, HistoryRead.head(run.id(), from, CHUNK), b -> {
      StringBuilder out = new StringBuilder(CHUNK * 64);
      if (first && k == 0) out.append(p.csv ? csvHeader(p) : "{\"runs\":[");
      if (from == 1 && !p.csv) jsonRunStart(out, p, k);
      int n = 0;
      for (int i = 0; i < b.size() && b.step()[i] <= last; i++, n++) {
        if (p.csv) csvRow(out, p, k, b, i);
        else jsonRow(out.append(from == 1 && i == 0 ? "" : ","), p, k, b, i);
      }
      long after = n == 0 ? last + 1 : b.step()[n - 1] + 1;
      return new Object[] {out.toString(), after};
    })
        .compose(chunk -> ctx.response().write((String) chunk[0]).map(chunk[1]))
        .onSuccess(after -> {
          long a = (Long) after;
          if (a <= last) {
            next(ctx, p, k, a, false);
          } else {
            if (!p.csv && k + 1 < p.runs.size()) ctx.response().write("]},");   // the next run's object follows
            next(ctx, p, k + 1, 1, false);
          }
        })
        .onFailure(e -> ctx.response().reset());
  }

  private static String csvHeader(Plan p) {
    StringBuilder b = new StringBuilder("run,name,tags,notes");
    for (String c : p.configColumns) csv(b.append(','), c);
    for (String c : STEP_COLUMNS) b.append(',').append(c);
    for (String m : p.metricColumns) csv(b.append(','), m);
    return b.append('\n').toString();
  }

  private static void csvRow(StringBuilder out, Plan p, int k, StepBatch b, int i) {
    Run run = p.runs.get(k);
    csv(out, run.id());
    csv(out.append(','), run.summary().name());
    csv(out.append(','), String.join(";", run.summary().spec().tags()));
    String notes = run.summary().spec().notes();
    csv(out.append(','), notes == null ? "" : notes);
    Map<String, Object> config = p.configs.get(k);
    for (String c : p.configColumns) {
      Object v = config.get(c);
      out.append(',');
      if (v instanceof Double d) out.append(Json.format(d));
      else if (v != null) csv(out, String.valueOf(v));
    }
    out.append(',').append(b.step()[i]).append(',').append(value(b.loss()[i])).append(',').append(value(b.lr()[i]))
        .append(',').append(value(b.gradNorm()[i])).append(',').append(b.t()[i]);
    for (String m : p.metricColumns) {
      double[] v = b.metrics().get(m);
      out.append(',');
      if (v != null && !Double.isNaN(v[i])) out.append(value(v[i]));
    }
    out.append('\n');
  }

  /** A number as CSV and JSON readers take it: round-trip digits, or NaN/Infinity spelled out. */
  private static String value(double v) {
    return Json.format(v);
  }

  /** A CSV field: quoted when it holds a comma, a quote or a line break, its quotes doubled. */
  private static void csv(StringBuilder b, String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
      b.append(s);
      return;
    }
    b.append('"').append(s.replace("\"", "\"\"")).append('"');
  }

  private static void jsonRunStart(StringBuilder out, Plan p, int k) {
    out.append("{\"summary\":").append(p.summaries.get(k)).append(",\"columns\":[");
    List<String> cols = new ArrayList<>(STEP_COLUMNS);
    cols.addAll(p.metrics.get(k));
    for (int c = 0; c < cols.size(); c++) {
      if (c > 0) out.append(',');
      Json.quote(out, cols.get(c));
    }
    out.append("],\"rows\":[");
  }

  private static void jsonRow(StringBuilder out, Plan p, int k, StepBatch b, int i) {
    out.append('[').append(b.step()[i]).append(',');
    number(out, b.loss()[i]);
    number(out.append(','), b.lr()[i]);
    number(out.append(','), b.gradNorm()[i]);
    out.append(',').append(b.t()[i]);
    for (String m : p.metrics.get(k)) {
      double[] v = b.metrics().get(m);
      number(out.append(','), v == null ? Double.NaN : v[i]);
    }
    out.append(']');
  }

  /** A JSON number, or (JSON has none) the strings "NaN", "Infinity", "-Infinity" as everywhere else. */
  private static void number(StringBuilder b, double v) {
    if (Double.isFinite(v)) b.append(Json.format(v));
    else b.append('"').append(Json.format(v)).append('"');
  }
}
