package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * {@code ReduceLROnPlateau}, stepped with each step's loss: when the loss has not improved on its best by
 * {@code threshold} (relative or absolute) for more than {@code patience} steps, the lr is multiplied by
 * {@code factor} (not below {@code min_lr}, and only if it moves by more than {@code eps}), after which
 * {@code cooldown} steps pass before bad steps count again. A NaN loss is never an improvement.
 */
public final class Plateau implements Schedule {
  /** torch's arguments and defaults. */
  public record Config(boolean max, double factor, int patience, double threshold, boolean absolute, int cooldown,
      double minLr, double eps) implements Schedule.Config {
    static Config read(Options o) {
      boolean max = o.choice("mode", "min", "min", "max").equals("max");
      double factor = o.number("factor", 0.1, v -> v > 0 && v < 1, "must be in (0, 1)");
      int patience = o.integer("patience", 10, 0);
      double threshold = o.number("threshold", 1e-4, v -> v >= 0, "must be >= 0");
      boolean absolute = o.choice("threshold_mode", "rel", "rel", "abs").equals("abs");
      int cooldown = o.integer("cooldown", 0, 0);
      double minLr = o.number("min_lr", 0, v -> v >= 0, "must be >= 0");
      double eps = o.number("eps", 1e-8, v -> v >= 0, "must be >= 0");
      return new Config(max, factor, patience, threshold, absolute, cooldown, minLr, eps);
    }

    @Override public String type() {
      return "plateau";
    }

    @Override public Schedule create(double baseLr) {
      return new Plateau(this, baseLr);
    }
  }

  private final Config c;
  private double lr;
  private double best;
  private int badSteps;
  private int cooldownLeft;

  private Plateau(Config c, double baseLr) {
    this.c = c;
    this.lr = baseLr;
    this.best = c.max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void step(double loss) {
    if (isBetter(loss)) {
      best = loss;
      badSteps = 0;
    } else {
      badSteps++;
    }
    if (cooldownLeft > 0) {
      cooldownLeft--;
      badSteps = 0;
    }
    if (badSteps > c.patience) {
      double reduced = Math.max(lr * c.factor, c.minLr);
      if (lr - reduced > c.eps) lr = reduced;
      cooldownLeft = c.cooldown;
      badSteps = 0;
    }
  }

  private boolean isBetter(double a) {
    if (!c.max) return c.absolute ? a < best - c.threshold : a < best * (1. - c.threshold);
    return c.absolute ? a > best + c.threshold : a > best * (c.threshold + 1.);
  }

  @Override public State state() {
    return new State().put("lr", lr).put("best", best).put("num_bad_epochs", badSteps).put("cooldown_counter", cooldownLeft);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    best = s.number("best");
    badSteps = (int) s.integer("num_bad_epochs");
    cooldownLeft = (int) s.integer("cooldown_counter");
  }
}
