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
 *
 * @param json the description as given, for echoing back to whoever asks what a run is
 */
public record RunSpec(String name, Problem.Config problem, Optimizer.Config optimizer, Schedule.Config schedule,
    int steps, double stepsPerSecond, boolean autoLr, Map<String, Object> json) {

  public static RunSpec parse(String text) {
    return from(Json.parse(text));
  }

  @SuppressWarnings("unchecked")
  public static RunSpec from(Object tree) {
    if (!(tree instanceof Map)) throw new SpecException("", "a run spec must be a JSON object, got " + Options.describe(tree));
    Options o = Options.of("", tree);
    String name = o.string("name", null);
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

  private static Options section(Options o, String key) {
    if (!o.has(key)) throw o.fail(key, "is required");
    return Options.of(key, o.raw(key));
  }
}
