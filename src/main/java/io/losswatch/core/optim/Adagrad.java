package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * Adagrad, as {@code torch.optim.Adagrad}:
 * <pre>
 *   t ← t + 1;  lr_t ← lr / (1 + (t−1)·lr_decay)
 *   g ← g + λθ
 *   s ← s + g²           (s starts at initial_accumulator_value)
 *   θ ← θ − lr_t · g / (√s + ε)
 * </pre>
 * Duchi, Hazan and Singer, https://jmlr.org/papers/v12/duchi11a.html.
 */
public final class Adagrad implements Optimizer {
  /** torch's arguments and defaults. */
  public record Config(double lr, double lrDecay, double weightDecay, double initialAccumulatorValue, double eps)
      implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", 1e-2, v -> v > 0, "must be > 0");
      double lrDecay = o.number("lr_decay", 0, v -> v >= 0, "must be >= 0");
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      double initial = o.number("initial_accumulator_value", 0, v -> v >= 0, "must be >= 0");
      double eps = o.number("eps", 1e-10, v -> v >= 0, "must be >= 0");
      return new Config(lr, lrDecay, weightDecay, initial, eps);
    }

    @Override public String type() {
      return "adagrad";
    }

    /** torch's Adagrad has neither 'momentum' nor 'betas': one-cycle cannot cycle it. */
    @Override public boolean hasMomentum() {
      return false;
    }

    @Override public Optimizer create(int dimension) {
      return new Adagrad(this, dimension);
    }
  }

  private final double lrDecay;
  private final double weightDecay;
  private final double eps;
  private final double[] sum;
  private double lr;
  private long t;

  Adagrad(Config c, int dimension) {
    lr = c.lr;
    lrDecay = c.lrDecay;
    weightDecay = c.weightDecay;
    eps = c.eps;
    sum = new double[dimension];
    java.util.Arrays.fill(sum, c.initialAccumulatorValue);
  }

  @Override public void step(double[] params, double[] grad) {
    t++;
    double clr = lr / (1 + (t - 1) * lrDecay);
    for (int i = 0; i < params.length; i++) {
      double g = grad[i];
      if (weightDecay != 0) g = g + weightDecay * params[i];
      sum[i] = sum[i] + g * g;
      double std = Math.sqrt(sum[i]) + eps;
      params[i] = params[i] + -clr * g / std;
    }
  }

  /**
   * Preconditioned gradient descent at the decayed lr_t = lr / (1 + (t−1)·lr_decay): lr_t·λ(P⁻¹H) &lt; 2, that is
   * lr·λ(P⁻¹H) &lt; 2·(1 + (t−1)·lr_decay) (2 without lr_decay).
   */
  @Override public double stabilityThreshold() {
    return 2 * (1 + (t - 1) * lrDecay);
  }

  @Override public boolean preconditioned() {
    return true;
  }

  /** √s + ε: torch's {@code std}. */
  @Override public void denominator(double[] out) {
    for (int i = 0; i < out.length; i++) out[i] = Math.sqrt(sum[i]) + eps;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void setLr(double lr) {
    this.lr = lr;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("step", t).put("sum", sum);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    t = s.integer("step");
    s.copy("sum", sum);
  }
}
