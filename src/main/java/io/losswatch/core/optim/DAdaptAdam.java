package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * D-Adaptation Adam, as {@code dadaptation.DAdaptAdam} (facebookresearch/dadaptation,
 * {@code dadaptation/dadapt_adam.py}): Adam whose step d·lr grows from d0 to a lower bound on the distance to the
 * solution. At step k (from 0):
 * <pre>
 *   dlr ← d·lr·(use_bias_correction ? √(1−β2^(k+1)) / (1−β1^(k+1)) : 1)
 *   g ← g + λθ                                            (weight_decay λ, unless decouple)
 *   a ← dlr·⟨g, s / (√v + ε)⟩                             (s, v as before this step)
 *   m ← β1·m + dlr(1−β1)·g;   v ← β2·v + (1−β2)·g²
 *   s ← √β2·s + dlr(1−√β2)·g
 *   if ‖s‖₁ = 0: stop here (nothing to learn from)
 *   r ← √β2·r + (1−√β2)·a;   d̂ ← r / ((1−√β2)·‖s‖₁);   d ← max(d, min(d̂, d·growth_rate))
 *   θ ← θ − λ·dlr·θ                                       (decouple)
 *   θ ← θ − m / (√v + ε)
 * </pre>
 * The step reports d·lr with the d its dlr used (without the bias correction, as Adam's lr is reported).
 * Defazio and Mishchenko, https://arxiv.org/abs/2301.07733.
 */
public final class DAdaptAdam implements Optimizer {
  /**
   * The authors' arguments and defaults; their {@code log_every} only prints and {@code fsdp_in_use} is for sharded
   * training: neither is here.
   */
  public record Config(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decouple,
      boolean useBiasCorrection, double d0, double growthRate) implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", 1.0, v -> v > 0, "must be > 0");
      double[] betas = o.numbers("betas", new double[] {0.9, 0.999}, 2, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double eps = o.number("eps", 1e-8, v -> v > 0, "must be > 0");
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      boolean decouple = o.bool("decouple", false);
      boolean useBiasCorrection = o.bool("use_bias_correction", false);
      double d0 = o.number("d0", 1e-6, v -> v > 0, "must be > 0");
      double growthRate = LrFree.growthRate(o);
      return new Config(lr, betas[0], betas[1], eps, weightDecay, decouple, useBiasCorrection, d0, growthRate);
    }

    @Override public String type() {
      return "dadapt_adam";
    }

    /** Its 'betas': a one-cycle schedule cycles beta1, as torch does. */
    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public boolean setsOwnStep() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new DAdaptAdam(this, dimension);
    }
  }

  private final Config c;
  private final double[] expAvg;
  private final double[] expAvgSq;
  private final double[] s;
  private double lr;
  private double beta1;
  private double d;
  private double numeratorWeighted;
  private long k;
  private double stepLr = Double.NaN;

  DAdaptAdam(Config c, int dimension) {
    this.c = c;
    lr = c.lr;
    beta1 = c.beta1;
    d = c.d0;
    expAvg = new double[dimension];
    expAvgSq = new double[dimension];
    s = new double[dimension];
  }

  @Override public void step(double[] params, double[] grad) {
    int n = params.length;
    double beta2 = c.beta2;
    double eps = c.eps;
    double biasCorrection = c.useBiasCorrection
        ? Math.pow(1 - Math.pow(beta2, k + 1), 0.5) / (1 - Math.pow(beta1, k + 1)) : 1;
    double dlr = d * lr * biasCorrection;
    stepLr = d * lr;
    double sqrtBeta2 = Math.pow(beta2, 0.5);
    double decay = c.weightDecay;
    boolean coupled = decay != 0 && !c.decouple;
    double dot = 0;
    for (int i = 0; i < n; i++) {
      double g = coupled ? grad[i] + decay * params[i] : grad[i];
      dot += g * (s[i] / (Math.sqrt(expAvgSq[i]) + eps));
    }
    double numeratorAcum = dlr * dot;
    double emaAvg = dlr * (1 - beta1);
    double sAlpha = dlr * (1 - sqrtBeta2);
    double skL1 = 0;
    for (int i = 0; i < n; i++) {
      double g = coupled ? grad[i] + decay * params[i] : grad[i];
      expAvg[i] = expAvg[i] * beta1 + emaAvg * g;
      expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * g * g;
      s[i] = s[i] * sqrtBeta2 + sAlpha * g;
      skL1 += Math.abs(s[i]);
    }
    if (skL1 == 0) return;   // as the authors': no gradient yet, no step
    numeratorWeighted = sqrtBeta2 * numeratorWeighted + (1 - sqrtBeta2) * numeratorAcum;
    double dHat = numeratorWeighted / ((1 - sqrtBeta2) * skL1);
    d = LrFree.max(d, LrFree.min(dHat, d * c.growthRate));

    double shrink = -decay * dlr;
    for (int i = 0; i < n; i++) {
      double denom = Math.sqrt(expAvgSq[i]) + eps;
      if (decay != 0 && c.decouple) params[i] = params[i] + shrink * params[i];
      params[i] = params[i] + -1 * expAvg[i] / denom;
    }
    k++;
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void setLr(double lr) {
    this.lr = lr;
  }

  @Override public double stepLr() {
    return stepLr;
  }

  @Override public void setMomentum(double momentum) {
    beta1 = momentum;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("beta1", beta1).put("d", d).put("numerator_weighted", numeratorWeighted)
        .put("k", k).put("step_lr", stepLr).put("exp_avg", expAvg).put("exp_avg_sq", expAvgSq).put("s", s);
  }

  @Override public void load(State st) {
    lr = st.number("lr");
    beta1 = st.number("beta1");
    d = st.number("d");
    numeratorWeighted = st.number("numerator_weighted");
    k = st.integer("k");
    stepLr = st.number("step_lr");
    st.copy("exp_avg", expAvg);
    st.copy("exp_avg_sq", expAvgSq);
    st.copy("s", s);
  }
}
