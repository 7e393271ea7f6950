package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * Linear warmup, then cosine decay to zero: {@code LambdaLR} with the multiplier
 * m(t) = t/W for t &lt; W, else max(0, ½·(1 + cos(π·(t−W)/(T−W)))), t the scheduler steps taken so far
 * (0 at the first step, which therefore runs at lr 0, as it does in torch).
 */
public final class WarmupCosine implements Schedule {
  /** warmup_steps W is required; total_steps T defaults to the run's steps and must exceed W. */
  public record Config(int warmupSteps, int totalSteps) implements Schedule.Config {
    static Config read(Options o, int runSteps) {
      int warmup = o.integer("warmup_steps", 0);
      int total = o.byDefault("the run's steps").integer("total_steps", runSteps, 1);
      if (total <= warmup) {
        throw o.fail(o.has("total_steps") ? "total_steps" : "warmup_steps",
            "warmup_steps must be < total_steps, got warmup_steps " + warmup + " and total_steps " + total);
      }
      return new Config(warmup, total);
    }

    @Override public String type() {
      return "warmup_cosine";
    }

    @Override public Schedule create(double baseLr) {
      return new WarmupCosine(this, baseLr);
    }
  }

  private final Config c;
  private final double baseLr;
  private long t;

  private WarmupCosine(Config c, double baseLr) {
    this.c = c;
    this.baseLr = baseLr;
  }

  @Override public double lr() {
    return baseLr * multiplier(t);
  }

  @Override public void step(double loss) {
    t++;
  }

  private double multiplier(long t) {
    if (t < c.warmupSteps) return (double) t / c.warmupSteps;
    return Math.max(0.0, 0.5 * (1 + Math.cos(Math.PI * (t - c.warmupSteps) / (c.totalSteps - c.warmupSteps))));
  }

  @Override public State state() {
    return new State().put("step", t);
  }

  @Override public void load(State s) {
    t = s.integer("step");
  }
}
