package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * Adam ({@code torch.optim.Adam}) and, with decoupled weight decay, AdamW ({@code torch.optim.AdamW}):
 * <pre>
 *   t ← t + 1
 *   Adam:  g ← g + λθ            AdamW:  θ ← θ·(1 − lr·λ)
 *   m ← β1·m + (1−β1)·g
 *   v ← β2·v + (1−β2)·g²
 *   v̂ ← max(v̂, v) if amsgrad, else v
 *   θ ← θ − (lr / (1−β1^t)) · m / (√v̂ / √(1−β2^t) + ε)
 * </pre>
 * The two share every line but the weight decay, hence one class (torch keeps two files).
 * Kingma and Ba, https://arxiv.org/abs/1412.6980; Loshchilov and Hutter, https://arxiv.org/abs/1711.05101.
 */
public final class Adam implements Optimizer {
  /** torch's arguments; {@code decoupled} selects AdamW, whose weight_decay defaults to 1e-2 instead of 0. */
  public record Config(double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad,
      boolean decoupled) implements Optimizer.Config {
    static Config read(Options o, boolean decoupled) {
      double lr = o.number("lr", 1e-3, v -> v > 0, "must be > 0");
      double[] betas = o.numbers("betas", new double[] {0.9, 0.999}, 2, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double eps = o.number("eps", 1e-8, v -> v >= 0, "must be >= 0");
      double weightDecay = o.number("weight_decay", decoupled ? 1e-2 : 0, v -> v >= 0, "must be >= 0");
      boolean amsgrad = o.bool("amsgrad", false);
      return new Config(lr, betas[0], betas[1], eps, weightDecay, amsgrad, decoupled);
    }

    @Override public String type() {
      return decoupled ? "adamw" : "adam";
    }

    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new Adam(this, dimension);
    }
  }

  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final boolean amsgrad;
  private final boolean decoupled;
  private final double[] expAvg;
  private final double[] expAvgSq;
  private final double[] maxExpAvgSq;
  private double lr;
  private double beta1;
  private long t;

  Adam(Config c, int dimension) {
    lr = c.lr;
    beta1 = c.beta1;
    beta2 = c.beta2;
    eps = c.eps;
    weightDecay = c.weightDecay;
    amsgrad = c.amsgrad;
    decoupled = c.decoupled;
    expAvg = new double[dimension];
    expAvgSq = new double[dimension];
    maxExpAvgSq = amsgrad ? new double[dimension] : null;
  }

  @Override public void step(double[] params, double[] grad) {
    t++;
    double biasCorrection1 = 1 - Math.pow(beta1, t);
    double biasCorrection2 = 1 - Math.pow(beta2, t);
    double stepSize = lr / biasCorrection1;
    double biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    double decay = 1 - lr * weightDecay;
    for (int i = 0; i < params.length; i++) {
      double g = grad[i];
      if (weightDecay != 0) {
        if (decoupled) params[i] = params[i] * decay;
        else g = g + weightDecay * params[i];
      }
      expAvg[i] = expAvg[i] * beta1 + (1 - beta1) * g;
      expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * g * g;
      double second = expAvgSq[i];
      if (amsgrad) second = maxExpAvgSq[i] = Math.max(maxExpAvgSq[i], second);
      double denom = Math.sqrt(second) / biasCorrection2Sqrt + eps;
      params[i] = params[i] + -stepSize * expAvg[i] / denom;
    }
  }

  /**
   * A preconditioned heavy ball with μ = β1 and dampening β1: lr·λ(P⁻¹H) &lt; 2(1+β1)/(1−β1) (Cohen et al.,
   * https://arxiv.org/abs/2207.14484; the bias correction 1/(1−β1^t), which fades within a few 1/(1−β1), left out).
   */
  @Override public double stabilityThreshold() {
    return (2 + 2 * beta1) / (1 - beta1);
  }

  @Override public boolean preconditioned() {
    return true;
  }

  /** √v̂ / √(1−β2^t) + ε, v̂ being max_exp_avg_sq under amsgrad, else exp_avg_sq: torch's {@code denom}. */
  @Override public void denominator(double[] out) {
    double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    double[] second = amsgrad ? maxExpAvgSq : expAvgSq;
    for (int i = 0; i < out.length; i++) out[i] = Math.sqrt(second[i]) / biasCorrection2Sqrt + eps;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void setLr(double lr) {
    this.lr = lr;
  }

  /** A one-cycle schedule cycles beta1, as torch does for optimizers with 'betas'. */
  @Override public void setMomentum(double momentum) {
    this.beta1 = momentum;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("beta1", beta1).put("step", t).put("exp_avg", expAvg)
        .put("exp_avg_sq", expAvgSq).put("max_exp_avg_sq", maxExpAvgSq);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    beta1 = s.number("beta1");
    t = s.integer("step");
    s.copy("exp_avg", expAvg);
    s.copy("exp_avg_sq", expAvgSq);
    if (maxExpAvgSq != null) s.copy("max_exp_avg_sq", maxExpAvgSq);
  }
}
