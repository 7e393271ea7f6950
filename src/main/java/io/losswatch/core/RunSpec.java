package io.losswatch.core;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.optim.Optimizer;
import io.losswatch.core.optim.Optimizers;
import io.losswatch.core.problem.Problem;
import io.losswatch.core.problem.Problems;
import io.losswatch.core.schedule.Constant;
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
 *  "steps_per_second": 20}
 * </pre>
 * {@code steps_per_second} paces a run on the server (0 or absent: as fast as the machine goes) and
 * {@code auto_lr} lets it apply its diagnosis' advice by itself; the headless trace ignores both.
 * Hyperparameter keys are torch's keyword names. Any unknown key, wrong JSON type, non-finite or
 * out-of-range value, or missing required field is a {@link SpecException} naming the field and the value.
 * A spec is small: its {@code name} at most {@link #MAX_NAME} characters, the whole at most
 * {@link #MAX_BYTES} bytes as compact JSON, because every listing, summary and metric label repeats it.
 *
 * @param json the description as given, for echoing back to whoever asks what a run is
 */
public record RunSpec(String name, Problem.Config problem, Optimizer.Config optimizer, Schedule.Config schedule,
    int steps, double stepsPerSecond, boolean autoLr, Map<String, Object> json) {
  /** Characters (code points) in a name at most. */
  public static final int MAX_NAME = 256;
  /** Bytes of a whole spec, as compact UTF-8 JSON, at most. */
  public static final int MAX_BYTES = 4096;
  /** What the trainer does per parameter and step beyond the problem's evaluation: norm, update, geometry. */
  static final long COST_PER_PARAMETER = 15;

  public static RunSpec parse(String text) {
    return from(Json.parse(text));
  }

  @SuppressWarnings("unchecked")
  public static RunSpec from(Object tree) {
    if (!(tree instanceof Map)) throw new SpecException("", "a run spec must be a JSON object, got " + Options.describe(tree));
    Options o = Options.of("", tree);
    String name = o.string("name", null);
    if (name != null && name.codePointCount(0, name.length()) > MAX_NAME) {
      throw o.fail("name", "at most " + MAX_NAME + " characters, got " + name.codePointCount(0, name.length()));
    }
    int bytes = Json.write(tree).getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new SpecException("", "a run spec must be at most " + MAX_BYTES + " bytes as compact JSON, got " + bytes);
    }
    int steps = o.integer("steps", 1);
    double stepsPerSecond = o.number("steps_per_second", 0, v -> v >= 0, "must be >= 0");
    boolean autoLr = o.bool("auto_lr", false);
    Problem.Config problem = Problems.read(section(o, "problem"));
    Optimizer.Config optimizer = Optimizers.read(section(o, "optimizer"));
    Schedule.Config schedule = o.has("schedule")
        ? Schedules.read(Options.of("schedule", o.raw("schedule")), steps)
        : Constant.CONFIG;
    if (schedule instanceof OneCycle.Config c && c.cycleMomentum() && !optimizer.hasMomentum()) {
      throw new SpecException("schedule.cycle_momentum", optimizer.type()
          + " has no momentum or betas to cycle; set cycle_momentum to false, got true");
    }
    o.done("a run spec");
    if (name == null) name = problem.type() + " " + optimizer.type() + " lr=" + Json.format(optimizer.lr());
    return new RunSpec(name, problem, optimizer, schedule, steps, stepsPerSecond, autoLr,
        (Map<String, Object>) tree);
  }

  /**
   * About how many multiply-adds one training step takes: the problem's evaluation plus the trainer's and the
   * optimizer's work on every parameter. Pure and exact in long: a server compares it with what one step on an
   * event loop may cost before anything runs.
   */
  public long stepCost() {
    return Math.addExact(problem.evaluationCost(), Math.multiplyExact(problem.parameters(), COST_PER_PARAMETER));
  }

  private static Options section(Options o, String key) {
    if (!o.has(key)) throw o.fail(key, "is required");
    return Options.of(key, o.raw(key));
  }
}
