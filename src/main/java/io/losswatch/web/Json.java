package io.losswatch.web;

import io.losswatch.run.Placement;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.SegmentedStringWriter;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.event.Alert;
import io.losswatch.event.Appended;
import io.losswatch.event.LrChange;
import io.losswatch.event.MetricSummary;
import io.losswatch.event.Rewind;
import io.losswatch.event.RunSummary;
import io.losswatch.event.ScriptReport;
import io.losswatch.event.StepBatch;
import io.losswatch.history.MetricPoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The web layer's JSON, on jackson-core's streaming API: every JSON the server sends is written here, with one
 * generator, and {@link #FACTORY} also makes the parser that reads appends ({@link AppendReader}). Doubles print as
 * the shortest text that reads back to the same double (jackson's Schubfach writer, exact round-trip), integral ones
 * as integers ({@code 3}, not {@code 3.0}); non-finite ones as the strings "NaN", "Infinity", "-Infinity" (JSON has
 * no such numbers); values a run has not produced yet as null. (The core keeps its own JDK-only reader and writer,
 * {@link io.losswatch.core.config.Json}, for run specs; request bodies other than appends go through it.)
 */
final class Json {
  static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .build();

  private Json() {
  }

  /** What writes one JSON value to a generator. */
  @FunctionalInterface
  interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  /** The text {@code body} writes. */
  static String text(Body body) {
    SegmentedStringWriter out = new SegmentedStringWriter(FACTORY._getBufferRecycler());
    try {
      try (JsonGenerator g = FACTORY.createGenerator(out)) {
        body.write(g);
      }
      return out.getAndClear();
    } catch (IOException e) {
      throw new UncheckedIOException(e);   // a writer into memory does not fail
    }
  }

  /** A double as above: a number, or "NaN", "Infinity", "-Infinity". */
  static void number(JsonGenerator g, double d) throws IOException {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) g.writeNumber((long) d);
    else if (Double.isFinite(d)) g.writeNumber(d);
    else g.writeString(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
  }

  private static void number(JsonGenerator g, String name, double v, boolean present) throws IOException {
    g.writeFieldName(name);
    if (present) number(g, v);
    else g.writeNull();
  }

  /**
   * A tree of maps (keys in their order), lists, strings, booleans, numbers (as {@link #number}) and nulls, such as
   * {@code Options} and the schema describe; anything else as its {@code toString()}.
   */
  static String tree(Object v) {
    return text(g -> tree(g, v));
  }

  static void tree(JsonGenerator g, Object v) throws IOException {
    if (v == null) g.writeNull();
    else if (v instanceof String s) g.writeString(s);
    else if (v instanceof Boolean b) g.writeBoolean(b);
    else if (v instanceof Number n) number(g, n.doubleValue());
    else if (v instanceof Map<?, ?> m) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        tree(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof List<?> l) {
      g.writeStartArray();
      for (Object x : l) tree(g, x);
      g.writeEndArray();
    } else {
      g.writeString(v.toString());
    }
  }

  /**
   * A request body other than an append, as the tree {@code Options} reads: the core's strict reader (duplicate keys,
   * lone surrogates and bad escapes refused, an error saying where), so a spec reads the same from a file and over REST.
   */
  static Object parse(String text) {
    return io.losswatch.core.config.Json.parse(text);
  }

  /** {@code s} as a JSON string, for a message that quotes what it got. */
  static String quote(String s) {
    return text(g -> g.writeString(s));
  }

  static String summary(RunSummary s) {
    return text(g -> summary(g, s));
  }

  static String summaries(List<RunSummary> all) {
    return text(g -> {
      g.writeStartArray();
      for (RunSummary s : all) summary(g, s);
      g.writeEndArray();
    });
  }

  static void summary(JsonGenerator g, RunSummary s) throws IOException {
    summary(g, s, null);
  }

  /** A REST summary: with each metric's last, lowest and highest value ({@code "metrics"}) when given. */
  static String summary(RunSummary s, Map<String, MetricSummary> metrics) {
    return text(g -> summary(g, s, metrics));
  }

  /**
   * A created run's summary, and in a cluster the node it lives on ({@code "node": {"name", "url"}}: the creation
   * may have placed it on a less busy node than the one asked).
   */
  static String created(RunSummary s, Placement.Node node) {
    return text(g -> summary(g, s, null, node));
  }

  static void summary(JsonGenerator g, RunSummary s, Map<String, MetricSummary> metrics) throws IOException {
    summary(g, s, metrics, null);
  }

  private static void summary(JsonGenerator g, RunSummary s, Map<String, MetricSummary> metrics, Placement.Node node)
      throws IOException {
    boolean started = s.step() > 0;
    g.writeStartObject();
    g.writeStringField("id", s.id());
    g.writeStringField("name", s.name());
    g.writeStringField("source", s.spec().external() ? "external" : "builtin");
    g.writeStringField("sweep", s.spec().sweep());
    g.writeStringField("state", s.state().label());
    g.writeStringField("reason", s.reason());
    g.writeFieldName("tags");
    tree(g, s.spec().tags());
    g.writeStringField("notes", s.spec().notes());
    g.writeFieldName("spec");
    tree(g, s.spec().json());
    g.writeNumberField("cycle", s.cycle());
    g.writeNumberField("step", s.step());
    number(g, "loss", s.loss(), started);
    number(g, "lr", s.lr(), started);
    number(g, "grad_norm", s.gradNorm(), started);
    number(g, "best_loss", s.bestLoss(), started);
    number(g, "steps_per_second", s.stepsPerSecond(), true);
    g.writeFieldName("diagnosis");
    diagnosis(g, s.diagnosis());
    g.writeArrayFieldStart("lr_changes");
    for (LrChange c : s.lrChanges()) {
      g.writeStartObject();
      g.writeNumberField("step", c.step());
      number(g, "from", c.from(), true);
      number(g, "to", c.to(), true);
      g.writeStringField("cause", String.valueOf(c.cause()));
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeStringField("parent", s.parent());
    g.writeFieldName("branched_at");
    if (s.parent() == null) g.writeNull();
    else g.writeNumber(s.branchedAt());
    g.writeArrayFieldStart("rewinds");
    for (Rewind r : s.rewinds()) {
      g.writeStartObject();
      g.writeNumberField("at", r.at());
      g.writeNumberField("to", r.to());
      number(g, "lr_before", r.lrBefore(), true);
      number(g, "lr_after", r.lrAfter(), true);
      g.writeStringField("why", String.valueOf(r.why()));
      g.writeEndObject();
    }
    g.writeEndArray();
    curvature(g, s.curvature());
    script(g, s.script());
    if (metrics != null) {
      g.writeObjectFieldStart("metrics");
      for (var e : metrics.entrySet()) {
        g.writeObjectFieldStart(e.getKey());
        g.writeNumberField("step", e.getValue().step());
        number(g, "last", e.getValue().last(), true);
        number(g, "min", e.getValue().min(), true);
        number(g, "max", e.getValue().max(), true);
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    g.writeStringField("created", Instant.ofEpochMilli(s.created()).toString());
    g.writeStringField("updated", Instant.ofEpochMilli(s.updated()).toString());
    if (node != null) {
      g.writeObjectFieldStart("node");
      g.writeStringField("name", node.name());
      g.writeStringField("url", node.url());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  /**
   * {@code "curvature"}: the last measurement, {@code {"step","sharpness","threshold","stability","preconditioned"}}
   * (a number not known is left out), null before the first. A script's run's threshold and preconditioning are its
   * script's ({@code "curvature"} of its appends).
   */
  private static void curvature(JsonGenerator g, RunSummary.Curvature c) throws IOException {
    if (c == null) {
      g.writeNullField("curvature");
      return;
    }
    g.writeObjectFieldStart("curvature");
    g.writeNumberField("step", c.step());
    number(g, "sharpness", c.sharpness(), !Double.isNaN(c.sharpness()));
    number(g, "threshold", c.threshold(), !Double.isNaN(c.threshold()));
    number(g, "stability", c.stability(), !Double.isNaN(c.stability()));
    g.writeBooleanField("preconditioned", c.preconditioned());
    g.writeEndObject();
  }

  /**
   * A script's run's report: {@code "lookahead"} (its probes' count, steps and seconds, and the budget; null without
   * look-ahead) and {@code "auto_lr_scope"} (what auto_lr may do, in words); a built-in run has neither.
   */
  private static void script(JsonGenerator g, ScriptReport r) throws IOException {
    if (r == null) return;
    if (Double.isNaN(r.budget())) {
      g.writeNullField("lookahead");
    } else {
      g.writeObjectFieldStart("lookahead");
      g.writeNumberField("probes", r.probes());
      g.writeNumberField("steps", r.probeSteps());
      number(g, "seconds", r.probeSeconds(), true);
      number(g, "budget", r.budget(), true);
      g.writeEndObject();
    }
    g.writeStringField("auto_lr_scope", r.autoLr());
  }

  private static void diagnosis(JsonGenerator g, Diagnosis d) throws IOException {
    g.writeStartObject();
    g.writeStringField("verdict", d.verdict().label());
    g.writeStringField("advice", d.advice());
    number(g, "suggested_lr", d.suggestedLr(), d.hasAdvice());
    g.writeNumberField("since_step", d.sinceStep());
    g.writeStringField("evidence", d.evidence());
    number(g, "retry_lr", d.retryLr(), !Double.isNaN(d.retryLr()));
    g.writeEndObject();
  }

  static String alert(Alert a) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("type", "alert");
      g.writeStringField("run", a.run());
      g.writeStringField("name", a.name());
      g.writeStringField("kind", a.kind().label());
      g.writeNumberField("step", a.step());
      g.writeStringField("message", a.message());
      number(g, "suggested_lr", a.suggestedLr(), !Double.isNaN(a.suggestedLr()));
      g.writeStringField("time", Instant.ofEpochMilli(a.time()).toString());
      g.writeEndObject();
    });
  }

  static String runMessage(RunSummary s) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("type", "run");
      g.writeFieldName("run");
      summary(g, s);
      g.writeEndObject();
    });
  }

  /** The columns of {@code batch} at indices [from, to), as a REST body or (with a run id) a WebSocket message. */
  static String steps(StepBatch batch, int from, int to, boolean message) {
    return text(g -> {
      g.writeStartObject();
      if (message) {
        g.writeStringField("type", "steps");
        run(g, batch);
      }
      columns(g, batch, from, to);
      g.writeEndObject();
    });
  }

  /**
   * {@code GET /api/runs/{id}/steps?abandoned=true}: the steps, and the stretches the guard's rewinds took out, each
   * whole, with the rewind (1, 2, …) it belongs to.
   */
  static String steps(StepBatch kept, List<StepBatch> abandoned) {
    return text(g -> {
      g.writeStartObject();
      columns(g, kept, 0, kept.size());
      g.writeArrayFieldStart("abandoned");
      for (int i = 0; i < abandoned.size(); i++) {
        g.writeStartObject();
        g.writeNumberField("rewind", i + 1);
        columns(g, abandoned.get(i), 0, abandoned.get(i).size());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  /** A run's history as a live subscriber gets it first: a steps message, marked when points were left out. */
  static String overview(StepBatch batch, boolean downsampled) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("type", "steps");
      run(g, batch);
      g.writeBooleanField("downsampled", downsampled);
      columns(g, batch, 0, batch.size());
      g.writeEndObject();
    });
  }

  /** One run's part of a live frame: {@code {"run":…,"cycle":…,"step":[…],…}}. */
  static String frameEntry(StepBatch batch) {
    return text(g -> {
      g.writeStartObject();
      run(g, batch);
      columns(g, batch, 0, batch.size());
      g.writeEndObject();
    });
  }

  /** A live frame: every run's bucket due for one client at one tick ({@link #frameEntry}s), {@code t} the server's clock. */
  static String frame(long t, Iterable<String> entries) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("type", "frame");
      g.writeNumberField("t", t);
      g.writeArrayFieldStart("runs");
      for (String e : entries) g.writeRawValue(e);
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  private static void run(JsonGenerator g, StepBatch batch) throws IOException {
    g.writeStringField("run", batch.run());
    g.writeNumberField("cycle", batch.cycle());
  }

  private static void columns(JsonGenerator g, StepBatch batch, int from, int to) throws IOException {
    g.writeArrayFieldStart("step");
    for (int i = from; i < to; i++) g.writeNumber(batch.step()[i]);
    g.writeEndArray();
    column(g, "loss", batch.loss(), from, to);
    column(g, "lr", batch.lr(), from, to);
    column(g, "grad_norm", batch.gradNorm(), from, to);
    g.writeArrayFieldStart("t");
    for (int i = from; i < to; i++) g.writeNumber(batch.t()[i]);
    g.writeEndArray();
    // the curvature's columns, a built-in run's or a script's: null where not measured (every step, when none was)
    measured(g, "sharpness", batch.sharpness(), from, to);
    measured(g, "stability", batch.stability(), from, to);
    if (batch.metrics().isEmpty()) return;
    g.writeObjectFieldStart("metrics");
    for (var e : batch.metrics().entrySet()) column(g, e.getKey(), e.getValue(), from, to);
    g.writeEndObject();
  }

  /** A curvature column: null where the step was not measured (NaN), and every value null when none was (no column). */
  private static void measured(JsonGenerator g, String name, double[] v, int from, int to) throws IOException {
    g.writeArrayFieldStart(name);
    for (int i = from; i < to; i++) {
      if (v == null || Double.isNaN(v[i])) g.writeNull();
      else number(g, v[i]);
    }
    g.writeEndArray();
  }

  private static void column(JsonGenerator g, String name, double[] v, int from, int to) throws IOException {
    g.writeArrayFieldStart(name);
    for (int i = from; i < to; i++) number(g, v[i]);
    g.writeEndArray();
  }

  /** The answer to an append: what was taken, and the commands the script's loop must carry out. */
  static String appended(Appended r) {
    return text(g -> {
      g.writeStartObject();
      g.writeNumberField("accepted", r.accepted());
      g.writeNumberField("duplicates", r.duplicates());
      g.writeNumberField("skipped", r.skipped());
      g.writeNumberField("last_step", r.lastStep());
      g.writeArrayFieldStart("commands");
      for (Appended.Command c : r.commands()) {
        g.writeStartObject();
        g.writeStringField("id", c.id());
        g.writeStringField("op", c.op());
        switch (c.op()) {
          case "lr" -> {
            number(g, "lr", c.lr(), true);
            number(g, "factor", c.factor(), !Double.isNaN(c.factor()));
          }
          case "stop" -> g.writeStringField("reason", c.reason());
          case "rewind" -> {
            g.writeNumberField("to_step", c.toStep());
            number(g, "lr_factor", c.factor(), true);
          }
          case "probe" -> {
            g.writeArrayFieldStart("factors");
            for (double f : c.factors()) number(g, f);
            g.writeEndArray();
            g.writeNumberField("horizon", c.horizon());
          }
          default -> { }
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  /** {@code {"sweep": id, "runs": [summary, …]}}: a sweep just launched. */
  static String sweep(String id, List<RunSummary> runs) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("sweep", id);
      g.writeArrayFieldStart("runs");
      for (RunSummary s : runs) summary(g, s);
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  /** A run's metrics at the steps that logged them: {@code {"run", "last_step", "metrics": {name: {step, t, value}}}}. */
  static String metricPoints(String run, long lastStep, Map<String, MetricPoints> metrics) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("run", run);
      g.writeNumberField("last_step", lastStep);
      g.writeObjectFieldStart("metrics");
      for (var e : metrics.entrySet()) {
        MetricPoints p = e.getValue();
        g.writeObjectFieldStart(e.getKey());
        g.writeArrayFieldStart("step");
        for (int i = 0; i < p.size(); i++) g.writeNumber(p.step()[i]);
        g.writeEndArray();
        g.writeArrayFieldStart("t");
        for (int i = 0; i < p.size(); i++) g.writeNumber(p.t()[i]);
        g.writeEndArray();
        column(g, "value", p.value(), 0, p.size());
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeEndObject();
    });
  }

  /** {@code GET /health}. */
  static String health(int runs) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("status", "ok");
      g.writeNumberField("runs", runs);
      g.writeEndObject();
    });
  }

  static String error(String message, String field) {
    return error(message, field, null);
  }

  /** {@code state}: the state a run ended in, when that is why it refused (a 409 to an append). */
  static String error(String message, String field, String state) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("error", message);
      if (field != null && !field.isEmpty()) g.writeStringField("field", field);
      if (state != null) g.writeStringField("state", state);
      g.writeEndObject();
    });
  }

  static String wsError(String message) {
    return text(g -> {
      g.writeStartObject();
      g.writeStringField("type", "error");
      g.writeStringField("message", message);
      g.writeEndObject();
    });
  }
}
