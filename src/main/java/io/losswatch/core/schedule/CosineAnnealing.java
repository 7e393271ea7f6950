package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * {@code CosineAnnealingLR}: anneals the lr from its base to {@code eta_min} over {@code T_max} steps along a
 * half cosine, then back up, periodically. Uses torch's recursive (chainable) form, whose rounding the golden
 * files reproduce, rather than the closed form η_min + (η_base − η_min)(1 + cos(πt/T_max))/2.
 */
public final class CosineAnnealing implements Schedule {
  /** torch's arguments: T_max is required, eta_min defaults to 0. */
  public record Config(int tMax, double etaMin) implements Schedule.Config {
    static Config read(Options o) {
      int tMax = o.integer("T_max", 1);
      double etaMin = o.number("eta_min", 0, v -> v >= 0, "must be >= 0");
      return new Config(tMax, etaMin);
    }

    @Override public String type() {
      return "cosine";
    }

    @Override public Schedule create(double baseLr) {
      return new CosineAnnealing(this, baseLr);
    }
  }

  private final double tMax;
  private final double etaMin;
  private final double baseLr;
  private double lr;
  private long epoch;

  private CosineAnnealing(Config c, double baseLr) {
    this.tMax = c.tMax;
    this.etaMin = c.etaMin;
    this.baseLr = baseLr;
    this.lr = baseLr;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void step(double loss) {
    epoch++;
    long period = 2 * (long) tMax;
    if (Math.floorMod(epoch - 1 - (long) tMax, period) == 0) {
      // at the trough the ratio below would divide by zero: torch steps up by the first increment instead
      lr = lr + (baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
    } else {
      lr = (1 + Math.cos(Math.PI * epoch / tMax)) / (1 + Math.cos(Math.PI * (epoch - 1) / tMax))
          * (lr - etaMin) + etaMin;
    }
  }

  @Override public State state() {
    return new State().put("lr", lr).put("epoch", epoch);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    epoch = s.integer("epoch");
  }
}
