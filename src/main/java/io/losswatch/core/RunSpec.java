package io.losswatch.core;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.optim.Optimizer;
import io.losswatch.core.optim.Optimizers;
import io.losswatch.core.problem.Problem;
import io.losswatch.core.problem.Problems;
import io.losswatch.core.schedule.Constant;
import io.losswatch.core.schedule.LrRamp;
import io.losswatch.core.schedule.OneCycle;
import io.losswatch.core.schedule.Schedule;
import io.losswatch.core.schedule.Schedules;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One run, described in JSON and validated whole before anything runs:
 * <pre>
 * {"name": "optional label",
 *  "problem": "rosenbrock"  or  {"type": "quadratic", "x0": [3.0]},
 *  "optimizer": {"type": "adam", "lr": 0.01, "betas": [0.9, 0.99]},
 *  "schedule": {"type": "cosine", "T_max": 500, "eta_min": 0.0},
 *  "steps": 500,
 *  "steps_per_second": 20,
 *  "curvature_every": 100}
 * </pre>
 * {@code steps_per_second} paces a run on the server (0 or absent: as fast as the machine goes) and
 * {@code auto_lr} lets it apply its proven advice by itself and {@code guard} rolls it back past a blow-up (the
 * headless trace does both the same way); trace ignores the pace. {@code curvature_every} measures the sharpness
 * and the stability ratio at every that many steps ({@link io.losswatch.core.curvature.Curvature}; 0: never).
 *
 * <p>An external run, trained by a script elsewhere and only watched here, is
 * {@code {"source": "external", "name": …, "config": {…}, "optimizer": {"type": "adamw", "lr": 3e-4}, "auto_lr": …}}:
 * no problem, schedule or steps; its {@code config} (free-form, at most {@link #MAX_CONFIG_BYTES}) and
 * {@code optimizer} (a {@code type} and any values) are shown and labelled, not executed. It may carry a
 * {@code guard} (the same as a built-in run's: its script rewinds), {@code lookahead} ({@link Lookahead}: its script
 * runs probes) or {@code lr_range} (it is the script's range test).
 * Hyperparameter keys are torch's keyword names. Any unknown key, wrong JSON type, non-finite or
 * out-of-range value, or missing required field is a {@link SpecException} naming the field and the value.
 * A spec is small: its {@code name} at most {@link #MAX_NAME} characters, the whole at most
 * {@link #MAX_BYTES} bytes as compact JSON, because every listing, summary and metric label repeats it.
 *
 * <p>Either may carry {@code "tags": [...]} and {@code "notes": "..."} ({@link Description}): said of the run, changed
 * later, never run; they count apart from the size limits.
 *
 * @param json the description as given, for echoing back to whoever asks what a run is
 */
public record RunSpec(String name, Problem.Config problem, Optimizer.Config optimizer, Schedule.Config schedule,
    int steps, double stepsPerSecond, boolean autoLr, Guard guard, LrRange.Stop stopOnDivergence, String sweep,
    int curvatureEvery, Description description, Map<String, Object> json) {
  /** Characters (code points) in a name at most. */
  public static final int MAX_NAME = 256;
  /** Bytes of a whole spec, as compact UTF-8 JSON, at most. */
  public static final int MAX_BYTES = 4096;
  /** Bytes of an external run's {@code config}, and of the rest of its spec, at most each. */
  public static final int MAX_CONFIG_BYTES = 4096;
  /** What the trainer does per parameter and step beyond the problem's evaluation: norm, update, geometry. */
  static final long COST_PER_PARAMETER = 15;
  /**
   * Steps between two curvature measurements by default. A measurement takes up to 14 Hessian-vector products (the
   * first; 4 to 9 after), each 0.8 to 1.6 evaluations' worth: at 500 within 5% of a run's time (BENCHMARKS.md,
   * "Curvature").
   */
  public static final int DEFAULT_CURVATURE_EVERY = 500;

  /** The same spec under another name (a branch's), cut to {@link #MAX_NAME} code points. */
  public RunSpec withName(String newName) {
    String n = newName.codePointCount(0, newName.length()) <= MAX_NAME ? newName
        : newName.substring(0, newName.offsetByCodePoints(0, MAX_NAME));
    Map<String, Object> j = new java.util.LinkedHashMap<>(json);
    j.put("name", n);
    return new RunSpec(n, problem, optimizer, schedule, steps, stepsPerSecond, autoLr, guard, stopOnDivergence, sweep,
        curvatureEvery, description, java.util.Collections.unmodifiableMap(j));
  }

  /** The same spec with other tags and notes (a PATCH's). */
  public RunSpec with(Description d) {
    return new RunSpec(name, problem, optimizer, schedule, steps, stepsPerSecond, autoLr, guard, stopOnDivergence, sweep,
        curvatureEvery, d, d.into(json));
  }

  public java.util.List<String> tags() {
    return description.tags();
  }

  /** The notes, null for none. */
  public String notes() {
    return description.notes();
  }

  public static RunSpec parse(String text) {
    return from(Json.parse(text));
  }

  public static RunSpec from(Object tree) {
    if (!(tree instanceof Map)) throw new SpecException("", "a run spec must be a JSON object, got " + Options.describe(tree));
    return read(Options.of("", tree), tree);
  }

  /** The options of a run spec, as {@link Options#described()} lists them: read by the one reader. */
  public static java.util.List<Map<String, Object>> describe() {
    Options o = Options.describing("", Map.of());
    read(o, Map.of());
    return o.described();
  }

  @SuppressWarnings("unchecked")
  private static RunSpec read(Options o, Object tree) {
    String name = o.string("name", null);
    if (name != null && name.codePointCount(0, name.length()) > MAX_NAME) {
      throw o.fail("name", "at most " + MAX_NAME + " characters, got " + name.codePointCount(0, name.length()));
    }
    if (o.choice("source", "builtin", "builtin", "external").equals("external")) return external(o, name, tree);
    Description description = Description.read(o, Description.NONE);
    int bytes = bytes(withoutDescription(tree));
    if (bytes > MAX_BYTES) {
      throw new SpecException("", "a run spec must be at most " + MAX_BYTES + " bytes as compact JSON, got " + bytes);
    }
    int steps = o.integer("steps", 1);
    double stepsPerSecond = o.number("steps_per_second", 0, v -> v >= 0, "must be >= 0");
    boolean autoLr = o.bool("auto_lr", false);
    int curvatureEvery = o.integer("curvature_every", DEFAULT_CURVATURE_EVERY, 0);
    Options g = o.section("guard");
    Guard guard = g == null ? null : Guard.read(g);
    Options d = o.section("stop_on_divergence");
    LrRange.Stop stop = d == null ? null : LrRange.Stop.read(d);
    String sweep = o.string("sweep", null);
    if (sweep != null && !sweep.matches("[A-Za-z0-9_-]{1,64}")) {
      throw o.fail("sweep", "a sweep's id: 1 to 64 letters, digits, _ or -, got " + Options.describe(sweep));
    }
    Problem.Config problem = Problems.read(o.typed("problem", "problems", Problems.TYPES, true));
    Optimizer.Config optimizer = Optimizers.read(o.typed("optimizer", "optimizers", Optimizers.TYPES, true));
    Options s = o.byDefault("constant").typed("schedule", "schedules", Schedules.TYPES, false);
    Schedule.Config schedule = s == null ? Constant.CONFIG : Schedules.read(s, steps);
    if (schedule instanceof OneCycle.Config c && c.cycleMomentum() && !optimizer.hasMomentum()) {
      throw new SpecException("schedule.cycle_momentum", optimizer.type()
          + " has no momentum or betas to cycle; set cycle_momentum to false, got true");
    }
    o.done("a run spec");
    if (name == null) name = problem.type() + " " + optimizer.type() + " lr=" + Json.format(optimizer.lr());
    if (schedule instanceof LrRamp.Config r && r.endLr() <= optimizer.lr()) {
      throw new SpecException("schedule.end_lr", "must be above the optimizer's lr (" + Options.describe(optimizer.lr())
          + ", where the ramp starts), got " + Options.describe(r.endLr()));
    }
    if (schedule instanceof LrRamp.Config r && !Double.isFinite(r.endLr() / optimizer.lr())) {   // every lr between: finite
      throw new SpecException("schedule.end_lr", "the ramp from the optimizer's lr (" + Options.describe(optimizer.lr())
          + ") overflows a double on its way: end_lr / lr must be finite, got " + Options.describe(r.endLr()));
    }
    return new RunSpec(name, problem, optimizer, schedule, steps, stepsPerSecond, autoLr, guard, stop, sweep,
        curvatureEvery, description, (Map<String, Object>) tree);
  }

  @SuppressWarnings("unchecked")
  private static RunSpec external(Options o, String name, Object tree) {
    boolean autoLr = o.bool("auto_lr", false);
    if (o.has("config")) {
      if (!(o.raw("config") instanceof Map)) throw o.fail("config", "must be an object, got " + Options.describe(o.raw("config")));
      int bytes = bytes(o.raw("config"));
      if (bytes > MAX_CONFIG_BYTES) throw o.fail("config", "at most " + MAX_CONFIG_BYTES + " bytes as compact JSON, got " + bytes);
    }
    String optimizer = "unknown";
    if (o.has("optimizer")) {
      Options opt = Options.of("optimizer", o.raw("optimizer"));
      optimizer = opt.string("type", "unknown");
      if (optimizer.isEmpty() || optimizer.length() > 64) throw opt.fail("type", "1 to 64 characters, got " + optimizer.length());
      if (opt.has("lr")) opt.number("lr", v -> v > 0, "must be > 0");
    }
    Options g = o.section("guard");
    Guard guard = g == null ? null : Guard.read(g);
    Options l = o.section("lookahead");
    if (l != null) Lookahead.read(l);
    Options r = o.section("lr_range");
    ExternalRange range = r == null ? null : ExternalRange.read(r);
    if (range != null && (guard != null || autoLr || l != null)) {
      throw o.fail(guard != null ? "guard" : autoLr ? "auto_lr" : "lookahead", "a range test raises its lr until the loss"
          + " runs away, on purpose: it takes no guard, auto_lr or look-ahead");
    }
    Description description = Description.read(o, Description.NONE);
    o.done("an external run spec (source, name, config, optimizer, auto_lr, guard, lookahead, lr_range, tags, notes)");
    int rest = bytes(withoutDescription(tree)) - (o.has("config") ? bytes(o.raw("config")) : 0);
    if (rest > MAX_BYTES) throw new SpecException("", "an external run spec without its config must be at most " + MAX_BYTES
        + " bytes as compact JSON, got " + rest);
    if (name == null) name = range != null ? "lr range test" : "external " + optimizer;
    return new RunSpec(name, null, null, range == null ? null : range.ramp(), 0, 0, autoLr, guard,
        range == null ? null : range.stop(), null, 0, description, (Map<String, Object>) tree);
  }

  /**
   * An external run's {@code "lookahead": {"horizon": 200, "budget": 0.1}}: its script can run look-ahead probes, each
   * branch {@code horizon} steps, all of them together at most {@code budget} of the run's steps.
   */
  public record Lookahead(int horizon, double budget) {
    public static final int MAX_HORIZON = 10_000;

    static Lookahead read(Options o) {
      int horizon = o.integer("horizon", 200, 1, MAX_HORIZON);
      double budget = o.number("budget", 0.1, v -> v > 0 && v <= 1, "must be in (0, 1]");
      o.done("lookahead (horizon, budget)");
      return new Lookahead(horizon, budget);
    }
  }

  /**
   * A script's range test ({@code losswatch.lr_find}): {@code "lr_range": {"start_lr", "end_lr", "num_steps", "mode",
   * "smooth", "stop_factor"}}, as the client ramps its lr; {@code stop_factor} null: it never stops early.
   */
  private record ExternalRange(LrRamp.Config ramp, LrRange.Stop stop) {
    static ExternalRange read(Options o) {
      double start = o.number("start_lr", 1e-7, v -> v > 0, "must be > 0");
      double end = o.number("end_lr", 10, v -> v > start, "must be above start_lr (" + Json.format(start) + ")");
      int n = o.integer("num_steps", 100, 1, 1_000_000);
      boolean exp = o.choice("mode", "exp", "exp", "linear").equals("exp");
      double smooth = o.number("smooth", 0.98, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double factor = o.raw("stop_factor") == null ? Double.POSITIVE_INFINITY
          : o.number("stop_factor", 4, v -> v > 1, "must be > 1, or null (never stop early)");
      o.done("lr_range (start_lr, end_lr, num_steps, mode, smooth, stop_factor)");
      return new ExternalRange(new LrRamp.Config(end, n, exp), new LrRange.Stop(smooth, factor));
    }
  }

  /** An external run's look-ahead (null: its script runs no probes; a built-in run proves its advice itself). */
  public Lookahead lookahead() {
    if (!external() || !(json.get("lookahead") instanceof Map<?, ?> m)) return null;
    return Lookahead.read(Options.of("lookahead", m));
  }

  /**
   * An external run's class count, when its config names one ({@code "num_classes"}, an integer of at least 2): its
   * loss of knowing nothing is ln(num_classes); 0 when not said.
   */
  public int numClasses() {
    if (external() && json.get("config") instanceof Map<?, ?> c && c.get("num_classes") instanceof Number k
        && k.doubleValue() == Math.rint(k.doubleValue()) && k.doubleValue() >= 2 && k.doubleValue() <= 1e9) {
      return (int) k.doubleValue();
    }
    return 0;
  }

  /** An external run's planned length, when its config says ({@code steps}, {@code total_steps}, {@code max_steps}); else 0. */
  public long plannedSteps() {
    if (!external() || !(json.get("config") instanceof Map<?, ?> c)) return 0;
    for (String k : java.util.List.of("total_steps", "max_steps", "steps")) {
      if (c.get(k) instanceof Number v && v.doubleValue() == Math.rint(v.doubleValue()) && v.doubleValue() >= 1
          && v.doubleValue() <= 1e15) {
        return (long) v.doubleValue();
      }
    }
    return 0;
  }

  private static int bytes(Object tree) {
    return Json.write(tree).getBytes(StandardCharsets.UTF_8).length;
  }

  /** The tree without its tags and notes, which have limits of their own. */
  private static Object withoutDescription(Object tree) {
    if (!(tree instanceof Map<?, ?> m) || !(m.containsKey("tags") || m.containsKey("notes"))) return tree;
    Map<Object, Object> out = new java.util.LinkedHashMap<>(m);
    out.remove("tags");
    out.remove("notes");
    return out;
  }

  /** Whether a script elsewhere trains the run, and this server only watches it. */
  public boolean external() {
    return problem == null;
  }

  /**
   * Whether the run is a learning-rate range test (a ramp stopped on divergence here, or a script's
   * {@code lr_find}, which says so in its config): it drives the loss up on purpose, so it raises no alerts and
   * gets no advice.
   */
  public boolean rangeTest() {
    return stopOnDivergence != null || external() && json.get("config") instanceof Map<?, ?> c && c.containsKey("lr_range");
  }

  /**
   * Whether the run's optimizer sets its own step size (Prodigy, D-Adaptation, Schedule-Free), so that no lr factor
   * is advice for it: a built-in optimizer says so itself, an external run's is known by its type's name.
   */
  public boolean setsOwnStep() {
    return external() ? Optimizers.setsOwnStep(optimizerType()) : optimizer.setsOwnStep();
  }

  /** The optimizer's name, as given by an external run or built in. */
  @SuppressWarnings("unchecked")
  public String optimizerType() {
    if (!external()) return optimizer.type();
    Object o = json.get("optimizer");
    return o instanceof Map<?, ?> m && m.get("type") instanceof String t ? t : "unknown";
  }

  /** An external run's starting lr as its spec gives it, NaN if none; a built-in run's optimizer lr. */
  public double lr() {
    if (!external()) return optimizer.lr();
    Object o = json.get("optimizer");
    return o instanceof Map<?, ?> m && m.get("lr") instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** The problem's name; {@code external} for an external run. */
  public String problemType() {
    return external() ? "external" : problem.type();
  }

  /** The schedule's name; {@code external} for an external run (its script has whatever it has; a range test's ramp). */
  public String scheduleType() {
    return external() ? schedule != null ? schedule.type() : "external" : schedule.type();
  }

  /**
   * About how many multiply-adds one training step takes: the problem's evaluation plus the trainer's and the
   * optimizer's work on every parameter. Pure and exact in long: a server compares it with what one step on an
   * event loop may cost before anything runs.
   */
  public long stepCost() {
    if (external()) return 0;
    return Math.addExact(problem.evaluationCost(), Math.multiplyExact(problem.parameters(), COST_PER_PARAMETER));
  }
}
