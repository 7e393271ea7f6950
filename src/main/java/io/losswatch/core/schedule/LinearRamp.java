package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * {@code LinearLR}: scales the base lr by a factor moving linearly from {@code start_factor} to
 * {@code end_factor} over {@code total_iters} steps, then holds it. Chainable form, as torch computes it.
 */
public final class LinearRamp implements Schedule {
  /** torch's arguments and defaults (1/3, 1, 5). */
  public record Config(double startFactor, double endFactor, int totalIters) implements Schedule.Config {
    static Config read(Options o) {
      double start = o.number("start_factor", 1.0 / 3, v -> v > 0 && v <= 1, "must be in (0, 1]");
      double end = o.number("end_factor", 1.0, v -> v >= 0 && v <= 1, "must be in [0, 1]");
      int totalIters = o.integer("total_iters", 5, 1);
      return new Config(start, end, totalIters);
    }

    @Override public String type() {
      return "linear";
    }

    @Override public Schedule create(double baseLr) {
      return new LinearRamp(this, baseLr);
    }
  }

  private final Config c;
  private double lr;
  private long epoch;

  private LinearRamp(Config c, double baseLr) {
    this.c = c;
    this.lr = baseLr * c.startFactor;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void step(double loss) {
    epoch++;
    if (epoch > c.totalIters) return;
    double delta = c.endFactor - c.startFactor;
    lr = lr * (1. + delta / (c.totalIters * c.startFactor + (epoch - 1) * delta));
  }

  @Override public State state() {
    return new State().put("lr", lr).put("epoch", epoch);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    epoch = s.integer("epoch");
  }
}
