package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/** {@code ExponentialLR}: multiplies the lr by {@code gamma} after every step. */
public final class Exponential implements Schedule {
  /** torch's argument: gamma is required. */
  public record Config(double gamma) implements Schedule.Config {
    static Config read(Options o) {
      return new Config(o.number("gamma", v -> v > 0, "must be > 0"));
    }

    @Override public String type() {
      return "exponential";
    }

    @Override public Schedule create(double baseLr) {
      return new Exponential(gamma, baseLr);
    }
  }

  private final double gamma;
  private double lr;

  private Exponential(double gamma, double baseLr) {
    this.gamma = gamma;
    this.lr = baseLr;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void step(double loss) {
    lr = lr * gamma;
  }

  @Override public State state() {
    return new State().put("lr", lr);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
  }
}
