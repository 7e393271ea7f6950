package io.losswatch.web;

import io.losswatch.core.config.Json;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.event.Alert;
import io.losswatch.event.LrChange;
import io.losswatch.event.Rewind;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.MetricPoints;
import java.time.Instant;
import java.util.Map;

/**
 * Every JSON the server sends, written in one place. Doubles print in round-trip form; non-finite ones as
 * the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers); values a run has not produced
 * yet as null.
 */
final class Wire {
  private Wire() {
  }

  static String summary(RunSummary s) {
    StringBuilder b = new StringBuilder(512);
    summary(b, s);
    return b.toString();
  }

  static void summary(StringBuilder b, RunSummary s) {
    summary(b, s, null);
  }

  /** A REST summary: with each metric's last, lowest and highest value ({@code "metrics"}) when given. */
  static String summary(RunSummary s, Map<String, MetricPoints.Stats> metrics) {
    StringBuilder b = new StringBuilder(512);
    summary(b, s, metrics);
    return b.toString();
  }

  static void summary(StringBuilder b, RunSummary s, Map<String, MetricPoints.Stats> metrics) {
    boolean started = s.step() > 0;
    b.append("{\"id\":");
    Json.quote(b, s.id());
    b.append(",\"name\":");
    Json.quote(b, s.name());
    b.append(",\"source\":\"").append(s.spec().external() ? "external" : "builtin");
    b.append("\",\"sweep\":");
    if (s.spec().sweep() == null) b.append("null");
    else Json.quote(b, s.spec().sweep());
    b.append(",\"state\":\"").append(s.state().label()).append("\",\"reason\":");
    if (s.reason() == null) b.append("null");
    else Json.quote(b, s.reason());
    b.append(",\"tags\":");
    Json.write(b, s.spec().tags());
    b.append(",\"notes\":");
    if (s.spec().notes() == null) b.append("null");
    else Json.quote(b, s.spec().notes());
    b.append(",\"spec\":");
    Json.write(b, s.spec().json());
    b.append(",\"cycle\":").append(s.cycle()).append(",\"step\":").append(s.step());
    field(b, "loss", s.loss(), started);
    field(b, "lr", s.lr(), started);
    field(b, "grad_norm", s.gradNorm(), started);
    field(b, "best_loss", s.bestLoss(), started);
    field(b, "steps_per_second", s.stepsPerSecond(), true);
    b.append(",\"diagnosis\":");
    diagnosis(b, s.diagnosis());
    b.append(",\"lr_changes\":[");
    for (int i = 0; i < s.lrChanges().size(); i++) {
      LrChange c = s.lrChanges().get(i);
      b.append(i > 0 ? ",{\"step\":" : "{\"step\":").append(c.step());
      field(b, "from", c.from(), true);
      field(b, "to", c.to(), true);
      b.append(",\"cause\":\"").append(c.cause()).append("\"}");
    }
    b.append("],\"parent\":");
    if (s.parent() == null) b.append("null");
    else Json.quote(b, s.parent());
    b.append(",\"branched_at\":").append(s.parent() == null ? "null" : String.valueOf(s.branchedAt()));
    b.append(",\"rewinds\":[");
    for (int i = 0; i < s.rewinds().size(); i++) {
      Rewind r = s.rewinds().get(i);
      b.append(i > 0 ? ",{\"at\":" : "{\"at\":").append(r.at()).append(",\"to\":").append(r.to());
      field(b, "lr_before", r.lrBefore(), true);
      field(b, "lr_after", r.lrAfter(), true);
      b.append(",\"why\":\"").append(r.why()).append("\"}");
    }
    b.append(']');
    if (metrics != null) {
      b.append(",\"metrics\":{");
      int k = 0;
      for (var e : metrics.entrySet()) {
        if (k++ > 0) b.append(',');
        Json.quote(b, e.getKey());
        b.append(":{\"step\":").append(e.getValue().step());
        field(b, "last", e.getValue().last(), true);
        field(b, "min", e.getValue().min(), true);
        field(b, "max", e.getValue().max(), true);
        b.append('}');
      }
      b.append('}');
    }
    b.append(",\"created\":\"").append(Instant.ofEpochMilli(s.created()))
        .append("\",\"updated\":\"").append(Instant.ofEpochMilli(s.updated())).append("\"}");
  }

  private static void diagnosis(StringBuilder b, Diagnosis d) {
    b.append("{\"verdict\":\"").append(d.verdict().label()).append("\",\"advice\":");
    if (d.advice() == null) b.append("null");
    else Json.quote(b, d.advice());
    field(b, "suggested_lr", d.suggestedLr(), d.hasAdvice());
    b.append(",\"since_step\":").append(d.sinceStep()).append(",\"evidence\":");
    Json.quote(b, d.evidence());
    field(b, "retry_lr", d.retryLr(), !Double.isNaN(d.retryLr()));
    b.append('}');
  }

  static String alert(Alert a) {
    StringBuilder b = new StringBuilder(300).append("{\"type\":\"alert\",\"run\":");
    Json.quote(b, a.run());
    b.append(",\"name\":");
    Json.quote(b, a.name());
    b.append(",\"kind\":\"").append(a.kind().label()).append("\",\"step\":").append(a.step())
        .append(",\"message\":");
    Json.quote(b, a.message());
    field(b, "suggested_lr", a.suggestedLr(), !Double.isNaN(a.suggestedLr()));
    b.append(",\"time\":\"").append(Instant.ofEpochMilli(a.time())).append("\"}");
    return b.toString();
  }

  private static void field(StringBuilder b, String name, double v, boolean present) {
    b.append(",\"").append(name).append("\":");
    if (present) Json.number(b, v);
    else b.append("null");
  }

  static String runMessage(RunSummary s) {
    StringBuilder b = new StringBuilder(600).append("{\"type\":\"run\",\"run\":");
    summary(b, s);
    return b.append('}').toString();
  }

  /** The columns of {@code batch} at indices [from, to), as a REST body or (with a run id) a WebSocket message. */
  static String steps(StepBatch batch, int from, int to, boolean message) {
    StringBuilder b = new StringBuilder(64 + (to - from) * 80);
    if (message) b.append("{\"type\":\"steps\",");
    else b.append('{');
    if (message) run(b, batch);
    return columns(b, batch, from, to).append('}').toString();
  }

  /** A run's history as a live subscriber gets it first: a steps message, marked when points were left out. */
  static String overview(StepBatch batch, boolean downsampled) {
    StringBuilder b = new StringBuilder(64 + batch.size() * 80).append("{\"type\":\"steps\",");
    run(b, batch).append("\"downsampled\":").append(downsampled).append(',');
    return columns(b, batch, 0, batch.size()).append('}').toString();
  }

  /** One run's part of a live frame: {@code {"run":…,"cycle":…,"step":[…],…}}. */
  static String frameEntry(StepBatch batch) {
    StringBuilder b = new StringBuilder(64 + batch.size() * 80).append('{');
    return columns(run(b, batch), batch, 0, batch.size()).append('}').toString();
  }

  /** A live frame: every run's bucket due for one client at one tick, {@code t} the server's clock. */
  static String frame(long t, Iterable<String> entries) {
    StringBuilder b = new StringBuilder(1024).append("{\"type\":\"frame\",\"t\":").append(t).append(",\"runs\":[");
    boolean first = true;
    for (String e : entries) {
      if (!first) b.append(',');
      first = false;
      b.append(e);
    }
    return b.append("]}").toString();
  }

  private static StringBuilder run(StringBuilder b, StepBatch batch) {
    b.append("\"run\":");
    Json.quote(b, batch.run());
    return b.append(",\"cycle\":").append(batch.cycle()).append(',');
  }

  private static StringBuilder columns(StringBuilder b, StepBatch batch, int from, int to) {
    b.append("\"step\":[");
    for (int i = from; i < to; i++) (i > from ? b.append(',') : b).append(batch.step()[i]);
    column(b, "loss", batch.loss(), from, to);
    column(b, "lr", batch.lr(), from, to);
    column(b, "grad_norm", batch.gradNorm(), from, to);
    b.append("],\"t\":[");
    for (int i = from; i < to; i++) (i > from ? b.append(',') : b).append(batch.t()[i]);
    b.append(']');
    if (batch.metrics().isEmpty()) return b;
    b.append(",\"metrics\":{");
    boolean first = true;
    for (var e : batch.metrics().entrySet()) {
      if (!first) b.append(',');
      first = false;
      Json.quote(b, e.getKey());
      b.append(":[");
      for (int i = from; i < to; i++) {
        if (i > from) b.append(',');
        Json.number(b, e.getValue()[i]);
      }
      b.append(']');
    }
    return b.append('}');
  }

  private static void column(StringBuilder b, String name, double[] v, int from, int to) {
    b.append("],\"").append(name).append("\":[");
    for (int i = from; i < to; i++) {
      if (i > from) b.append(',');
      Json.number(b, v[i]);
    }
  }

  static String error(String message, String field) {
    return error(message, field, null);
  }

  /** {@code state}: the state a run ended in, when that is why it refused (a 409 to an append). */
  static String error(String message, String field, String state) {
    StringBuilder b = new StringBuilder(120).append("{\"error\":");
    Json.quote(b, message);
    if (field != null && !field.isEmpty()) {
      b.append(",\"field\":");
      Json.quote(b, field);
    }
    if (state != null) {
      b.append(",\"state\":");
      Json.quote(b, state);
    }
    return b.append('}').toString();
  }

  static String wsError(String message) {
    StringBuilder b = new StringBuilder(120).append("{\"type\":\"error\",\"message\":");
    Json.quote(b, message);
    return b.append('}').toString();
  }

  /** A run's metrics at the steps that logged them: {@code {"run", "last_step", "metrics": {name: {step, t, value}}}}. */
  static String metricPoints(String run, long lastStep, Map<String, MetricPoints> metrics) {
    int points = 0;
    for (MetricPoints p : metrics.values()) points += p.size();
    StringBuilder b = new StringBuilder(64 + points * 48).append("{\"run\":");
    Json.quote(b, run);
    b.append(",\"last_step\":").append(lastStep).append(",\"metrics\":{");
    int k = 0;
    for (var e : metrics.entrySet()) {
      MetricPoints p = e.getValue();
      if (k++ > 0) b.append(',');
      Json.quote(b, e.getKey());
      b.append(":{\"step\":[");
      for (int i = 0; i < p.size(); i++) b.append(i > 0 ? "," : "").append(p.step()[i]);
      b.append("],\"t\":[");
      for (int i = 0; i < p.size(); i++) b.append(i > 0 ? "," : "").append(p.t()[i]);
      b.append("],\"value\":[");
      for (int i = 0; i < p.size(); i++) b.append(i > 0 ? "," : "").append(Json.format(p.value()[i]));
      b.append("]}");
    }
    return b.append("}}").toString();
  }
}
