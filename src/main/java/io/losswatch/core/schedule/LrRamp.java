package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * The learning-rate range test's ramp, as {@code LambdaLR} runs it from the optimizer's lr (the start): step i
 * (from 0) uses lr_i = start·(end/start)^(i/(n−1)) in {@code exp} mode, start + (end − start)·i/(n−1) in
 * {@code linear} mode, so the first step is at start and step n at end.
 */
public final class LrRamp implements Schedule {
  /** {@code end_lr} (required, above the optimizer's lr), {@code num_steps} n ≥ 2 (required), {@code mode} exp. */
  public record Config(double endLr, int numSteps, boolean exp) implements Schedule.Config {
    static Config read(Options o) {
      double end = o.number("end_lr", v -> v > 0 && Double.isFinite(v), "must be > 0");
      int n = o.integer("num_steps", 2);
      boolean exp = o.choice("mode", "exp", "exp", "linear").equals("exp");
      return new Config(end, n, exp);
    }

    @Override public String type() {
      return "lr_range";
    }

    @Override public Schedule create(double baseLr) {
      return new LrRamp(this, baseLr);
    }
  }

  private final Config c;
  private final double start;
  private long i;

  private LrRamp(Config c, double start) {
    this.c = c;
    this.start = start;
  }

  @Override public double lr() {
    double at = (double) i / (c.numSteps - 1);
    return c.exp ? start * Math.pow(c.endLr / start, at) : start * (1 + (c.endLr / start - 1) * at);
  }

  @Override public void step(double loss) {
    i++;
  }

  @Override public State state() {
    return new State().put("step", i);
  }

  @Override public void load(State s) {
    i = s.integer("step");
  }
}
