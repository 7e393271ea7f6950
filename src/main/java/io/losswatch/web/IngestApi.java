package io.losswatch.web;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.event.Append;
import io.losswatch.event.Appended;
import io.losswatch.event.Finish;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.train.Run;
import io.losswatch.train.RunManager;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * External runs' way in: {@code POST /api/runs/{id}/steps} appends a script's steps (columnar, as the WebSocket
 * sends them) and answers with what its training loop must do; {@code POST /api/runs/{id}/finish} ends the run.
 * Everything is checked before anything is stored: a bad batch is refused whole, naming the field and the value.
 */
final class IngestApi {
  /** Steps one append may carry at most (a script sends what piled up since its last one, a few thousand). */
  static final int MAX_STEPS = 10_000;
  static final int MAX_BODY_BYTES = 4 * 1024 * 1024;
  /** Extra scalars a step may carry at most, and the form of their names. */
  static final int MAX_METRICS = 8;
  static final Pattern METRIC_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
  private static final double MAX_STEP = 9.007199254740991E15;   // 2^53: exact as a JSON number
  private final RunManager manager;

  IngestApi(RunManager manager) {
    this.manager = manager;
  }

  /** Mounted after the change guard and before the small body limit of every other route. */
  void mount(Router router) {
    router.post("/api/runs/:id/steps").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.post("/api/runs/:id/steps").handler(this::append);
    router.post("/api/runs/:id/finish").handler(BodyHandler.create(false).setBodyLimit(RestApi.MAX_BODY_BYTES));
    router.post("/api/runs/:id/finish").handler(this::finish);
  }

  private void append(RoutingContext ctx) {
    Run run = run(ctx);
    Append a = read(run.id(), RequestInput.json(ctx), System.currentTimeMillis());
    manager.<Appended>ingest(run, a).onSuccess(r -> ok(ctx, answer(r))).onFailure(ctx::fail);
  }

  private void finish(RoutingContext ctx) {
    Run run = run(ctx);
    Options o = Options.of("", RequestInput.json(ctx));
    RunState state = o.choice("state", null, "finished", "failed").equals("failed") ? RunState.FAILED : RunState.FINISHED;
    String message = o.string("message", null);
    if (message != null && message.length() > 1000) throw o.fail("message", "at most 1000 characters, got " + message.length());
    o.done("a finish");
    manager.<RunSummary>ingest(run, new Finish(state, message)).onSuccess(s -> ok(ctx, Wire.summary(s))).onFailure(ctx::fail);
  }

  private Run run(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return manager.runs().get(id).orElseThrow(() -> ApiError.notFound(id));
  }

  /** An append's body, checked whole: columns as long as {@code step}, steps increasing, values numbers. */
  static Append read(String run, Object body, long now) {
    if (!(body instanceof Map)) throw new SpecException("", "an append must be a JSON object, got " + Options.describe(body));
    Options o = Options.of("", body);
    List<?> steps = array(o, "step", -1);
    int n = steps == null ? 0 : steps.size();
    if (n > MAX_STEPS) {
      throw new ApiError(413, "step: at most " + MAX_STEPS + " steps in one append, got " + n + "; send them in parts", "step");
    }
    if (n > 0 && !o.has("loss")) throw o.fail("loss", "is required, one value per step");
    long[] step = new long[n];
    for (int i = 0; i < n; i++) {
      step[i] = integer(steps.get(i), "step[" + i + "]", 1);
      if (i > 0 && step[i] <= step[i - 1]) {
        throw new SpecException("step[" + i + "]", "steps must increase: step[" + (i - 1) + "] is " + step[i - 1]
            + ", got " + step[i]);
      }
    }
    double[] loss = values(o, "loss", n);
    double[] lr = values(o, "lr", n);
    double[] grad = values(o, "grad_norm", n);
    long[] t = new long[n];
    List<?> times = array(o, "t", n);
    for (int i = 0; i < n; i++) t[i] = times == null ? now : integer(times.get(i), "t[" + i + "]", 1);
    Map<String, double[]> metrics = metrics(o, n);
    List<Append.Ack> acks = acks(o);
    o.done("an append (step, loss, lr, grad_norm, t, metrics, acks)");
    return new Append(new StepBatch(run, 0, step, loss, lr, grad, t, metrics), acks);
  }

  private static Map<String, double[]> metrics(Options o, int n) {
    if (!o.has("metrics")) return Map.of();
    Options m = Options.of("metrics", o.raw("metrics"));
    @SuppressWarnings("unchecked")
    Map<String, Object> names = (Map<String, Object>) o.raw("metrics");
    if (names.size() > MAX_METRICS) throw o.fail("metrics", "at most " + MAX_METRICS + " names, got " + names.size());
    Map<String, double[]> out = new java.util.LinkedHashMap<>();
    for (String name : names.keySet()) {
      if (!METRIC_NAME.matcher(name).matches()) {
        throw m.fail(name, "a name is a letter or _ then letters, digits or _, at most 64, got " + Json.write(name));
      }
      out.put(name, values(m, name, n));
    }
    m.done("metrics");
    return java.util.Collections.unmodifiableMap(out);
  }

  /** The column {@code key} as doubles (NaN throughout when absent). */
  private static double[] values(Options o, String key, int n) {
    double[] v = new double[n];
    List<?> list = array(o, key, n);
    for (int i = 0; i < n; i++) v[i] = list == null ? Double.NaN : value(list.get(i), o.field(key) + "[" + i + "]");
    return v;
  }

  private static List<Append.Ack> acks(Options o) {
    List<Append.Ack> acks = new ArrayList<>();
    if (!o.has("acks")) return acks;
    if (!(o.raw("acks") instanceof List<?> list)) throw o.fail("acks", "must be an array, got " + Options.describe(o.raw("acks")));
    if (list.size() > 100) throw o.fail("acks", "at most 100, got " + list.size());
    for (int i = 0; i < list.size(); i++) {
      Options a = Options.of("acks[" + i + "]", list.get(i));
      String id = a.string("id", null);
      if (id == null) throw a.fail("id", "is required: the id of the command applied");
      long step = integer(a.raw("step"), a.field("step"), 1);
      a.done("an ack (id, step)");
      acks.add(new Append.Ack(id, step));
    }
    return acks;
  }

  /** The array {@code key}, of {@code n} values when {@code n} ≥ 0; null when absent. */
  private static List<?> array(Options o, String key, int n) {
    if (!o.has(key)) return null;
    if (!(o.raw(key) instanceof List<?> list)) throw o.fail(key, "must be an array, got " + Options.describe(o.raw(key)));
    if (n >= 0 && list.size() != n) throw o.fail(key, "must have one value per step (" + n + "), got " + list.size());
    return list;
  }

  /** A number, or NaN and the infinities as JSON has no such numbers: null, "NaN", "Infinity", "-Infinity". */
  static double value(Object v, String field) {
    if (v instanceof Number x) return x.doubleValue();
    if (v == null || "NaN".equals(v)) return Double.NaN;
    if ("Infinity".equals(v)) return Double.POSITIVE_INFINITY;
    if ("-Infinity".equals(v)) return Double.NEGATIVE_INFINITY;
    throw new SpecException(field, "must be a number, null, \"NaN\", \"Infinity\" or \"-Infinity\", got " + Json.write(v));
  }

  private static long integer(Object v, String field, double min) {
    if (!(v instanceof Number x) || x.doubleValue() != Math.rint(x.doubleValue()) || x.doubleValue() < min
        || x.doubleValue() > MAX_STEP) {
      throw new SpecException(field, "must be an integer from " + Json.format(min) + " to 2^53, got " + Json.write(v));
    }
    return x.longValue();
  }

  private static String answer(Appended r) {
    StringBuilder b = new StringBuilder(128).append("{\"accepted\":").append(r.accepted()).append(",\"duplicates\":")
        .append(r.duplicates()).append(",\"last_step\":").append(r.lastStep()).append(",\"commands\":[");
    for (int i = 0; i < r.commands().size(); i++) {
      Appended.Command c = r.commands().get(i);
      b.append(i > 0 ? ",{\"id\":" : "{\"id\":");
      Json.quote(b, c.id());
      b.append(",\"op\":\"").append(c.op()).append('"');
      if (c.op().equals("lr")) {
        b.append(",\"lr\":");
        Json.number(b, c.lr());
        b.append(",\"factor\":");
        if (Double.isNaN(c.factor())) b.append("null");
        else Json.number(b, c.factor());
      }
      b.append('}');
    }
    return b.append("]}").toString();
  }

  private static void ok(RoutingContext ctx, String json) {
    ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8").end(json);
  }
}
