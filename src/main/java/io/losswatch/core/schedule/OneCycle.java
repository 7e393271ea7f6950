package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * {@code OneCycleLR}: the lr rises from max_lr/div_factor to max_lr over the first pct_start of the run, then
 * falls to max_lr/(div_factor·final_div_factor); the momentum (SGD, RMSprop) or Adam's beta1 moves the other
 * way, between max_momentum and base_momentum. With three_phase, the lr comes back down to its start
 * symmetrically before the final fall. Closed form over the step number, exactly as torch computes it.
 * Smith and Topin, https://arxiv.org/abs/1708.07120.
 */
public final class OneCycle implements Schedule {
  /** torch's arguments; {@code total_steps} defaults to the run's steps and may not be fewer. */
  public record Config(double maxLr, int totalSteps, double pctStart, boolean linear, boolean cycleMomentum,
      double baseMomentum, double maxMomentum, double divFactor, double finalDivFactor, boolean threePhase)
      implements Schedule.Config {
    static Config read(Options o, int runSteps) {
      double maxLr = o.number("max_lr", v -> v > 0, "must be > 0");
      int totalSteps = o.byDefault("the run's steps").integer("total_steps", runSteps, 1);
      if (totalSteps < runSteps) {
        throw o.fail("total_steps", "must be >= the run's steps (" + runSteps + "), got " + totalSteps);
      }
      double pctStart = o.number("pct_start", 0.3, v -> v >= 0 && v <= 1, "must be in [0, 1]");
      boolean linear = o.choice("anneal_strategy", "cos", "cos", "linear").equals("linear");
      boolean cycleMomentum = o.bool("cycle_momentum", true);
      double base = o.number("base_momentum", 0.85, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double max = o.number("max_momentum", 0.95, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double div = o.number("div_factor", 25, v -> v > 0, "must be > 0");
      double finalDiv = o.number("final_div_factor", 1e4, v -> v > 0, "must be > 0");
      boolean threePhase = o.bool("three_phase", false);
      return new Config(maxLr, totalSteps, pctStart, linear, cycleMomentum, base, max, div, finalDiv, threePhase);
    }

    @Override public String type() {
      return "onecycle";
    }

    @Override public Schedule create(double baseLr) {
      return new OneCycle(this);
    }
  }

  /** One phase: the step it ends at, and the lr and momentum it anneals between. */
  private record Phase(double endStep, double startLr, double endLr, double startMomentum, double endMomentum) {
  }

  private final Config c;
  private final Phase[] phases;
  private double lr;
  private double momentum;
  private long stepNum;

  private OneCycle(Config c) {
    this.c = c;
    double initialLr = c.maxLr / c.divFactor;
    double minLr = initialLr / c.finalDivFactor;
    double rise = c.pctStart * c.totalSteps - 1;
    double last = c.totalSteps - 1;
    phases = c.threePhase
        ? new Phase[] {
            new Phase(rise, initialLr, c.maxLr, c.maxMomentum, c.baseMomentum),
            new Phase(2 * c.pctStart * c.totalSteps - 2, c.maxLr, initialLr, c.baseMomentum, c.maxMomentum),
            new Phase(last, initialLr, minLr, c.maxMomentum, c.maxMomentum)}
        : new Phase[] {
            new Phase(rise, initialLr, c.maxLr, c.maxMomentum, c.baseMomentum),
            new Phase(last, c.maxLr, minLr, c.baseMomentum, c.maxMomentum)};
    update();
  }

  @Override public double lr() {
    return lr;
  }

  @Override public double momentum() {
    return c.cycleMomentum ? momentum : Double.NaN;
  }

  @Override public void step(double loss) {
    stepNum++;
    update();
  }

  private void update() {
    double start = 0;
    for (int i = 0; i < phases.length; i++) {
      Phase p = phases[i];
      if (stepNum <= p.endStep || i == phases.length - 1) {
        double pct = (stepNum - start) / (p.endStep - start);
        lr = anneal(p.startLr, p.endLr, pct);
        momentum = anneal(p.startMomentum, p.endMomentum, pct);
        return;
      }
      start = p.endStep;
    }
  }

  private double anneal(double from, double to, double pct) {
    if (c.linear) return (to - from) * pct + from;
    double cosOut = Math.cos(Math.PI * pct) + 1;
    return to + (from - to) / 2.0 * cosOut;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("momentum", momentum).put("step", stepNum);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    momentum = s.number("momentum");
    stepNum = s.integer("step");
  }
}
