package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * {@code StepLR}: multiplies the lr by {@code gamma} every {@code step_size} steps. Chainable, like torch:
 * the lr is updated from its current value, not recomputed from the base.
 */
public final class StepDecay implements Schedule {
  /** torch's arguments: step_size is required, gamma defaults to 0.1. */
  public record Config(int stepSize, double gamma) implements Schedule.Config {
    static Config read(Options o) {
      int stepSize = o.integer("step_size", 1);
      double gamma = o.number("gamma", 0.1, v -> v > 0, "must be > 0");
      return new Config(stepSize, gamma);
    }

    @Override public String type() {
      return "step";
    }

    @Override public Schedule create(double baseLr) {
      return new StepDecay(this, baseLr);
    }
  }

  private final Config c;
  private double lr;
  private long epoch;

  private StepDecay(Config c, double baseLr) {
    this.c = c;
    this.lr = baseLr;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void step(double loss) {
    epoch++;
    if (epoch % c.stepSize == 0) lr = lr * c.gamma;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("epoch", epoch);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    epoch = s.integer("epoch");
  }
}
