package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * RMSprop, as {@code torch.optim.RMSprop}:
 * <pre>
 *   g ← g + λθ
 *   s ← α·s + (1−α)·g²
 *   centered: a ← α·a + (1−α)·g,  d ← √(s − a²) + ε;   else d ← √s + ε
 *   momentum μ > 0: b ← μ·b + g/d,  θ ← θ − lr·b;       else θ ← θ − lr·g/d
 * </pre>
 * Hinton, Lecture 6e of "Neural Networks for Machine Learning"; centered: Graves, https://arxiv.org/abs/1308.0850.
 */
public final class RmsProp implements Optimizer {
  /** torch's arguments and defaults. */
  public record Config(double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered)
      implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", 1e-2, v -> v > 0, "must be > 0");
      double alpha = o.number("alpha", 0.99, v -> v >= 0 && v <= 1, "must be in [0, 1]");
      double eps = o.number("eps", 1e-8, v -> v >= 0, "must be >= 0");
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      double momentum = o.number("momentum", 0, v -> v >= 0, "must be >= 0");
      boolean centered = o.bool("centered", false);
      return new Config(lr, alpha, eps, weightDecay, momentum, centered);
    }

    @Override public String type() {
      return "rmsprop";
    }

    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new RmsProp(this, dimension);
    }
  }

  private final double alpha;
  private final double eps;
  private final double weightDecay;
  private final boolean centered;
  private final double[] squareAvg;
  private final double[] gradAvg;
  private final double[] buffer;
  private double lr;
  private double momentum;

  RmsProp(Config c, int dimension) {
    lr = c.lr;
    alpha = c.alpha;
    eps = c.eps;
    weightDecay = c.weightDecay;
    momentum = c.momentum;
    centered = c.centered;
    squareAvg = new double[dimension];
    gradAvg = centered ? new double[dimension] : null;
    buffer = new double[dimension];
  }

  @Override public void step(double[] params, double[] grad) {
    for (int i = 0; i < params.length; i++) {
      double g = grad[i];
      if (weightDecay != 0) g = g + weightDecay * params[i];
      squareAvg[i] = squareAvg[i] * alpha + (1 - alpha) * g * g;
      double avg;
      if (centered) {
        gradAvg[i] = gradAvg[i] * alpha + (1 - alpha) * g;
        avg = Math.sqrt(squareAvg[i] + -1 * gradAvg[i] * gradAvg[i]);
      } else {
        avg = Math.sqrt(squareAvg[i]);
      }
      avg = avg + eps;
      if (momentum > 0) {
        buffer[i] = buffer[i] * momentum + g / avg;
        params[i] = params[i] + -lr * buffer[i];
      } else {
        params[i] = params[i] + -lr * g / avg;
      }
    }
  }

  /** Preconditioned gradient descent, lr·λ(P⁻¹H) &lt; 2, or with momentum μ a heavy ball: &lt; 2(1+μ). */
  @Override public double stabilityThreshold() {
    return momentum >= 1 ? 0 : 2 * (1 + momentum);
  }

  @Override public boolean preconditioned() {
    return true;
  }

  /** √s + ε, or centered √(s − a²) + ε: torch's {@code avg}. */
  @Override public void denominator(double[] out) {
    for (int i = 0; i < out.length; i++) {
      double avg = centered ? Math.sqrt(squareAvg[i] + -1 * gradAvg[i] * gradAvg[i]) : Math.sqrt(squareAvg[i]);
      out[i] = avg + eps;
    }
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void setLr(double lr) {
    this.lr = lr;
  }

  @Override public void setMomentum(double momentum) {
    this.momentum = momentum;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("momentum", momentum).put("square_avg", squareAvg)
        .put("grad_avg", gradAvg).put("momentum_buffer", buffer);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    momentum = s.number("momentum");
    s.copy("square_avg", squareAvg);
    if (gradAvg != null) s.copy("grad_avg", gradAvg);
    s.copy("momentum_buffer", buffer);
  }
}
