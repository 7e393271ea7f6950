package io.losswatch.web;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Options;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Run;
import io.losswatch.run.RunManager;
import io.losswatch.run.Sweeps;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * Sweeps over the learning rate: {@code POST /api/sweeps} starts one run per lr of a grid, grouped by a sweep id;
 * {@code GET /api/sweeps/{id}} ranks them as they go; {@code GET /api/sweeps} lists the sweeps.
 */
final class SweepApi {
  static final int MAX_RUNS = 200;
  private final RunManager manager;
  private final UnaryOperator<RunSpec> allowed;

  SweepApi(RunManager manager, UnaryOperator<RunSpec> allowed) {
    this.manager = manager;
    this.allowed = allowed;
  }

  void mount(Router router) {
    router.post("/api/sweeps").handler(this::start);
    router.get("/api/sweeps").handler(this::list);
    router.get("/api/sweeps/:id").handler(this::get);
  }

  /** A sweep's request: the spec every run starts from, their lrs and an optional early stop. */
  record Request(Map<String, Object> base, double[] lrs, Sweeps.EarlyStop early) {
  }

  /** Reads a sweep's request (or, {@link Options#describing}, describes it). */
  static Request read(Options o) {
    Map<String, Object> base = o.object("base", "run", "is required: the RunSpec every run of the sweep starts from");
    double[] lrs = grid(o);
    Options e = o.section("early_stop");
    Sweeps.EarlyStop early = e == null ? null : earlyStop(e);
    o.done("a sweep (base, lr, early_stop)");
    return new Request(base, lrs, early);
  }

  private void start(RoutingContext ctx) {
    Request r = read(Options.of("", RequestInput.json(ctx)));
    double[] lrs = r.lrs();
    Sweeps.EarlyStop early = r.early();
    String sweep = manager.sweeps().newId();
    Map<String, Object> b = r.base();
    String name = b.get("name") instanceof String n ? n : null;
    List<RunSpec> specs = new ArrayList<>();
    for (double lr : lrs) {
      Map<String, Object> spec = BaseSpec.withLr(b, lr);
      spec.put("sweep", sweep);
      if (name != null) spec.put("name", name + " lr=" + Options.describe(lr));
      specs.add(allowed.apply(BaseSpec.parse(spec)));
    }
    manager.sweeps().launch(sweep, specs, early).onSuccess(runs -> {
      RestApi.ok(ctx, 201, Json.sweep(sweep, runs.stream().map(Run::summary).toList()));
    }).onFailure(ctx::fail);
  }

  /** The lrs: a list, {@code {"from", "to", "factor"}} (from, from·factor, … up to to) or {@code {"from", "to", "num"}}. */
  private static double[] grid(Options o) {
    Object lr = o.raw("lr");
    double[] out;
    if (lr instanceof List<?>) {
      out = o.numbers("lr", null, -1, BaseSpec::lr, BaseSpec.LR_BOUNDS);
    } else if (lr instanceof Map<?, ?> || o.describing()) {
      Options g = o.section("lr", true, "a list of lrs (each in [1e-12, 1e6]), or {from, to, factor} or {from, to, num}");
      double from = g.number("from", BaseSpec::lr, BaseSpec.LR_BOUNDS);
      double to = g.number("to", BaseSpec::lr, BaseSpec.LR_BOUNDS);
      if (to < from) throw g.fail("to", "must be at least from (" + Options.describe(from) + "), got " + Options.describe(to));
      if (!g.describing() && g.has("factor") == g.has("num")) {
        throw g.fail("factor", "give factor (a geometric step) or num (how many lrs), one of them");
      }
      // one of the two is given: the other is absent
      double factor = g.byDefault("or num").number("factor", Double.NaN, v -> v > 1 && Double.isFinite(v), "must be > 1");
      int num = g.byDefault("or factor").integer("num", 0, 1, MAX_RUNS);
      if (num == 0) {
        List<Double> l = new ArrayList<>();
        for (double x = from; x <= to * (1 + 1e-9) && l.size() <= MAX_RUNS; x *= factor) l.add(Diagnoser.nice(x));
        out = l.stream().mapToDouble(Double::doubleValue).toArray();
      } else {
        out = new double[num];
        for (int i = 0; i < num; i++) {   // evenly spaced in log: from·(to/from)^(i/(num−1)), exact at both ends
          out[i] = Diagnoser.nice(i == 0 ? from : i == num - 1 ? to
              : Math.exp(Math.log(from) + (Math.log(to) - Math.log(from)) * i / (num - 1)));
        }
      }
      g.done("an lr grid (from, to, factor or num)");
    } else {
      throw o.fail("lr", "is required: a list of lrs, {\"from\", \"to\", \"factor\"} or {\"from\", \"to\", \"num\"}, got "
          + Options.describe(lr));
    }
    if (out.length == 0 || out.length > MAX_RUNS) {
      throw o.fail("lr", "1 to " + MAX_RUNS + " lrs, got " + out.length);
    }
    return out;
  }

  private static Sweeps.EarlyStop earlyStop(Options o) {
    int[] at = o.integers("at", 1, "is required: the milestone steps, e.g. [50, 100, 200]");
    for (int i = 1; i < at.length; i++) {
      if (at[i] <= at[i - 1]) throw o.fail("at", "steps must increase, got " + at[i - 1] + " then " + at[i]);
    }
    double keep = o.number("keep", 0.5, v -> v > 0 && v < 1, "must be in (0, 1)");
    o.done("an early stop (at, keep)");
    long[] steps = new long[at.length];
    for (int i = 0; i < at.length; i++) steps[i] = at[i];
    return new Sweeps.EarlyStop(steps, keep);
  }

  private void list(RoutingContext ctx) {
    RequestInput.none(ctx);
    Map<String, Integer> counts = new TreeMap<>();
    for (Run r : manager.runs().all()) if (r.spec().sweep() != null) counts.merge(r.spec().sweep(), 1, Integer::sum);
    List<Object> out = new ArrayList<>();
    counts.forEach((id, n) -> out.add(Map.of("sweep", id, "runs", (double) n)));
    RestApi.ok(ctx, 200, Json.tree(out));
  }

  /** The sweep's runs, best first: by the loss at their latest step (a non-finite one last), then by lr. */
  private void get(RoutingContext ctx) {
    String sweep = ctx.pathParam("id");
    // each run's summary taken once: they change while the runs go, and a sort must see one order
    List<RunSummary> runs = new ArrayList<>(manager.sweeps().runs(sweep).stream().map(Run::summary).toList());
    if (runs.isEmpty()) throw new ApiError(404, "no sweep " + sweep, null);
    runs.sort(Comparator.comparingDouble(SweepApi::rankLoss).thenComparingDouble(s -> s.spec().optimizer().lr()));
    List<Object> ranked = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      RunSummary s = runs.get(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rank", (double) (i + 1));
      m.put("id", s.id());
      m.put("name", s.name());
      m.put("lr", s.spec().optimizer().lr());
      m.put("state", s.state().label());
      m.put("step", (double) s.step());
      m.put("loss", s.loss());
      m.put("best_loss", s.bestLoss());
      m.put("early_stopped", manager.sweeps().earlyStopped(sweep, s.id()));
      ranked.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("sweep", sweep);
    out.put("runs", ranked);
    RestApi.ok(ctx, 200, Json.tree(out));
  }

  private static double rankLoss(RunSummary s) {
    return Double.isFinite(s.loss()) ? s.loss() : Double.POSITIVE_INFINITY;
  }
}
