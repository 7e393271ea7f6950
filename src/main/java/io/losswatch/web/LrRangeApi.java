package io.losswatch.web;

import io.losswatch.core.LrRange;
import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.schedule.LrRamp;
import io.losswatch.event.RunState;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import io.losswatch.run.RunManager;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The learning-rate range test: {@code POST /api/lr-range} runs a spec while its lr ramps up (a run like any
 * other, streamed live), until its smoothed loss runs away, and answers with the curve and the lrs fastai and
 * Lightning would suggest; {@code GET /api/lr-range/{id}} answers the same for a range test's run at any time.
 */
final class LrRangeApi {
  static final int MAX_STEPS = 10_000;
  private final RunManager manager;
  private final UnaryOperator<RunSpec> allowed;

  LrRangeApi(RunManager manager, UnaryOperator<RunSpec> allowed) {
    this.manager = manager;
    this.allowed = allowed;
  }

  void mount(Router router) {
    router.post("/api/lr-range").handler(this::start);
    router.get("/api/lr-range/:id").handler(this::get);
  }

  /** A range test's request: the spec to test and how to ramp its lr, and when to stop. */
  record Request(Map<String, Object> base, double start, double end, int n, String mode, double smooth, double factor) {
  }

  /** Reads a range test's request (or, {@link Options#describing}, describes it). */
  static Request read(Options o) {
    Map<String, Object> base = o.object("base", "run", "is required: the RunSpec to test, e.g. {\"problem\": \"logreg\", "
        + "\"optimizer\": {\"type\": \"sgd\"}}");
    if ("external".equals(base.get("source"))) {   // before the ramp is added to it: blame what was sent
      throw new SpecException("base.source", "a range test trains a built-in run (a problem and an optimizer) here;"
          + " a script tests its own model with lr_range in its run's create body, got \"external\"");
    }
    double start = o.number("start_lr", 1e-7, BaseSpec::lr, BaseSpec.LR_BOUNDS);
    double end = o.number("end_lr", 10, BaseSpec::lr, BaseSpec.LR_BOUNDS);
    if (end <= start) throw o.fail("end_lr", "must be above start_lr (" + Options.describe(start) + "), got " + Options.describe(end));
    int n = o.integer("num_steps", 100, 2, MAX_STEPS);
    String mode = o.choice("mode", "exp", "exp", "linear");
    double smooth = o.number("smooth", 0.98, v -> v >= 0 && v < 1, "must be in [0, 1)");
    double factor = o.number("stop_factor", 4, v -> v > 1 && Double.isFinite(v), "must be > 1");
    o.done("a range test (base, start_lr, end_lr, num_steps, mode, smooth, stop_factor)");
    return new Request(base, start, end, n, mode, smooth, factor);
  }

  private void start(RoutingContext ctx) {
    Request r = read(Options.of("", RequestInput.json(ctx)));
    // the base spec, its lr, schedule and length given over to the ramp
    Map<String, Object> spec = BaseSpec.withLr(r.base(), r.start());
    spec.put("schedule", Map.of("type", "lr_range", "end_lr", r.end(), "num_steps", (double) r.n(), "mode", r.mode()));
    spec.put("steps", (double) r.n());
    spec.put("stop_on_divergence", Map.of("smooth", r.smooth(), "factor", r.factor()));
    spec.putIfAbsent("name", "lr range test");
    manager.launch(allowed.apply(BaseSpec.parse(spec)), false)
        .compose(manager::ended)
        .compose(run -> ctx.vertx().executeBlocking(() -> analysis(run), false))
        .onSuccess(json -> RestApi.ok(ctx, 200, json))
        .onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Run run = manager.runs().get(id).orElseThrow(() -> ApiError.notFound(id));
    if (!(run.spec().schedule() instanceof LrRamp.Config)) {
      throw new ApiError(404, "run " + id + " is not a range test (its schedule is not lr_range)", null);
    }
    ctx.vertx().executeBlocking(() -> analysis(run), false)
        .onSuccess(json -> RestApi.ok(ctx, 200, json)).onFailure(ctx::fail);
  }

  /** The curve so far and what it suggests; reads the history (maybe the disk): off the event loop. */
  private static String analysis(Run run) {
    LrRamp.Config ramp = (LrRamp.Config) run.spec().schedule();
    double beta = run.spec().stopOnDivergence() == null ? 0.98 : run.spec().stopOnDivergence().smooth();
    StepBatch b = run.history().read(1, Math.max(1, run.history().lastStep()), 0);
    double[] lrs = java.util.Arrays.copyOf(b.lr(), b.size());
    double[] loss = java.util.Arrays.copyOf(b.loss(), b.size());
    double[] smoothed = LrRange.smooth(loss, beta);
    Map<String, Object> suggestions = new LinkedHashMap<>();
    suggestions.put("steepest", orNull(LrRange.steepest(lrs, smoothed)));
    suggestions.put("valley", orNull(LrRange.valley(lrs, smoothed, ramp.numSteps())));
    suggestions.put("minimum/10", orNull(LrRange.minimumTenth(lrs, smoothed, ramp.numSteps())));
    RunState state = run.summary().state();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("run", run.id());
    out.put("state", state.label());
    out.put("num_steps", (double) ramp.numSteps());
    out.put("stopped_early", !state.isLive() && b.size() < ramp.numSteps());
    out.put("lr", list(lrs));
    out.put("loss", list(loss));
    out.put("smoothed", list(smoothed));
    out.put("suggestions", suggestions);
    return Json.tree(out);
  }

  private static Object orNull(double v) {
    return Double.isNaN(v) ? null : v;
  }

  private static List<Object> list(double[] v) {
    List<Object> l = new ArrayList<>(v.length);
    for (double x : v) l.add(x);
    return l;
  }
}
