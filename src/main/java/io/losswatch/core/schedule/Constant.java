package io.losswatch.core.schedule;

import io.losswatch.core.state.State;

/** No schedule: the learning rate stays where the optimizer started it (or where a person set it). */
public final class Constant implements Schedule {
  /** The default when a RunSpec has no {@code schedule}. */
  public static final Config CONFIG = new Config();

  /** No options. */
  public record Config() implements Schedule.Config {
    @Override public String type() {
      return "constant";
    }

    @Override public Schedule create(double baseLr) {
      return new Constant(baseLr);
    }
  }

  private final double lr;

  private Constant(double lr) {
    this.lr = lr;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void step(double loss) {
  }

  @Override public State state() {
    return new State();
  }

  @Override public void load(State s) {
  }
}
