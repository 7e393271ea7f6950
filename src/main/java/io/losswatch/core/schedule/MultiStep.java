package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * {@code MultiStepLR}: multiplies the lr by {@code gamma} at each milestone step. A milestone listed k times
 * multiplies by gamma^k, as torch's {@code Counter} does.
 */
public final class MultiStep implements Schedule {
  /** torch's arguments: milestones is required, gamma defaults to 0.1. */
  public record Config(int[] milestones, double gamma) implements Schedule.Config {
    static Config read(Options o) {
      int[] milestones = o.integers("milestones", 0, "is required");
      double gamma = o.number("gamma", 0.1, v -> v > 0, "must be > 0");
      return new Config(milestones, gamma);
    }

    @Override public String type() {
      return "multistep";
    }

    @Override public Schedule create(double baseLr) {
      return new MultiStep(this, baseLr);
    }
  }

  private final int[] milestones;   // with repeats: a step listed k times multiplies by gamma^k
  private final double gamma;
  private double lr;
  private long epoch;

  private MultiStep(Config c, double baseLr) {
    milestones = c.milestones.clone();
    gamma = c.gamma;
    lr = baseLr;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void step(double loss) {
    epoch++;
    int k = 0;
    for (int m : milestones) if (m == epoch) k++;
    if (k > 0) lr = lr * Math.pow(gamma, k);
  }

  @Override public State state() {
    return new State().put("lr", lr).put("epoch", epoch);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    epoch = s.integer("epoch");
  }
}
