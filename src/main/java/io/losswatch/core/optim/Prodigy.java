package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * Prodigy, as {@code prodigyopt.Prodigy} (konstmish/prodigy, {@code prodigyopt/prodigy.py}): Adam whose step d·lr
 * grows from d0 to an estimate of the distance to the solution. At step k (from 0), with p0 the first point and
 * the statistics over every {@code slice_p}-th entry only:
 * <pre>
 *   dlr ← d·lr·(use_bias_correction ? √(1−β2^(k+1)) / (1−β1^(k+1)) : 1)
 *   g ← g + λθ                                        (weight_decay λ, unless decouple)
 *   r ← β3·r + (d/d0)·dlr·⟨g, p0 − θ⟩                 (β3 defaults to √β2)
 *   m ← β1·m + d(1−β1)·g;   v ← β2·v + d²(1−β2)·g²
 *   s ← β3·s + (d/d0)·(safeguard_warmup ? d : dlr)·g
 *   if ‖s‖₁ = 0: stop here (nothing to learn from)
 *   d̂ ← d_coef·r / ‖s‖₁;  d ← max(d, d̂) at d = d0;  d_max ← max(d_max, d̂);  d ← min(d_max, d·growth_rate)
 *   θ ← θ − λ·dlr·θ                                   (decouple)
 *   θ ← θ − dlr·m / (√v + d·ε)                         (β1 = 0: θ ← θ − dlr·d·g / (√v + d·ε))
 * </pre>
 * The step reports d·lr with the d its dlr used (without the bias correction, as Adam's lr is reported).
 * Mishchenko and Defazio, https://arxiv.org/abs/2306.06101.
 */
public final class Prodigy implements Optimizer {
  /** The authors' arguments and defaults (their {@code fsdp_in_use} is for sharded training: not here). */
  public record Config(double lr, double beta1, double beta2, double beta3, double eps, double weightDecay,
      boolean decouple, boolean useBiasCorrection, boolean safeguardWarmup, double d0, double dCoef,
      double growthRate, int sliceP) implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", 1.0, v -> v > 0, "must be > 0");
      double[] betas = o.numbers("betas", new double[] {0.9, 0.999}, 2, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double beta3 = o.byDefault("√beta2").number("beta3", Double.NaN, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double eps = o.number("eps", 1e-8, v -> v > 0, "must be > 0");
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      boolean decouple = o.bool("decouple", true);
      boolean useBiasCorrection = o.bool("use_bias_correction", false);
      boolean safeguardWarmup = o.bool("safeguard_warmup", false);
      double d0 = o.number("d0", 1e-6, v -> v > 0, "must be > 0");
      double dCoef = o.number("d_coef", 1.0, v -> v > 0, "must be > 0");
      double growthRate = LrFree.growthRate(o);
      int sliceP = o.integer("slice_p", 1, 1);
      return new Config(lr, betas[0], betas[1], beta3, eps, weightDecay, decouple, useBiasCorrection, safeguardWarmup,
          d0, dCoef, growthRate, sliceP);
    }

    @Override public String type() {
      return "prodigy";
    }

    /** Its 'betas': a one-cycle schedule cycles beta1, as torch does. */
    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public boolean setsOwnStep() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new Prodigy(this, dimension);
    }
  }

  private final Config c;
  private final double[] expAvg;
  private final double[] expAvgSq;
  private final double[] s;
  private final double[] p0;
  private double lr;
  private double beta1;
  private double d;
  private double dMax;
  private double dNumerator;
  private long k;
  private boolean started;
  private double stepLr = Double.NaN;

  Prodigy(Config c, int dimension) {
    this.c = c;
    lr = c.lr;
    beta1 = c.beta1;
    d = c.d0;
    dMax = c.d0;
    expAvg = new double[dimension];
    expAvgSq = new double[dimension];
    int sliced = (dimension + c.sliceP - 1) / c.sliceP;
    s = new double[sliced];
    p0 = new double[sliced];
  }

  @Override public void step(double[] params, double[] grad) {
    int n = params.length;
    int sp = c.sliceP;
    double beta2 = c.beta2;
    double beta3 = Double.isNaN(c.beta3) ? Math.sqrt(beta2) : c.beta3;
    double biasCorrection = c.useBiasCorrection
        ? Math.pow(1 - Math.pow(beta2, k + 1), 0.5) / (1 - Math.pow(beta1, k + 1)) : 1;
    double dlr = d * lr * biasCorrection;
    stepLr = d * lr;
    double decay = c.weightDecay;
    boolean coupled = decay != 0 && !c.decouple;
    if (!started) {
      for (int j = 0; j < s.length; j++) p0[j] = params[j * sp];
      started = true;
    }
    double numerator = dNumerator * beta3;
    double scale = d / c.d0;
    double dot = 0;
    for (int j = 0; j < s.length; j++) {
      int i = j * sp;
      double g = coupled ? grad[i] + decay * params[i] : grad[i];
      dot += g * (p0[j] - params[i]);
    }
    double deltaNumerator = scale * dlr * dot;
    double emaAvg = d * (1 - beta1);
    double emaSq = d * d * (1 - beta2);
    double sAlpha = scale * (c.safeguardWarmup ? d : dlr);
    double denomL1 = 0;
    for (int i = 0; i < n; i++) {
      double g = coupled ? grad[i] + decay * params[i] : grad[i];
      if (beta1 > 0) expAvg[i] = expAvg[i] * beta1 + emaAvg * g;
      expAvgSq[i] = expAvgSq[i] * beta2 + emaSq * g * g;
      if (i % sp == 0) {
        int j = i / sp;
        s[j] = s[j] * beta3 + sAlpha * g;
        denomL1 += Math.abs(s[j]);
      }
    }
    if (denomL1 == 0) return;   // as the authors': no gradient yet, no step
    double globalNumerator = numerator + deltaNumerator;
    double dHat = c.dCoef * globalNumerator / denomL1;
    if (d == c.d0) d = LrFree.max(d, dHat);
    dMax = LrFree.max(dMax, dHat);
    d = LrFree.min(dMax, d * c.growthRate);
    dNumerator = globalNumerator;

    double epsD = d * c.eps;
    double shrink = -decay * dlr;
    double gradStep = -dlr * d;
    for (int i = 0; i < n; i++) {
      double denom = Math.sqrt(expAvgSq[i]) + epsD;
      if (decay != 0 && c.decouple) params[i] = params[i] + shrink * params[i];
      if (beta1 > 0) {
        params[i] = params[i] + -dlr * expAvg[i] / denom;
      } else {
        double g = coupled ? grad[i] + decay * params[i] : grad[i];
        params[i] = params[i] + gradStep * g / denom;
      }
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
    return new State().put("lr", lr).put("beta1", beta1).put("d", d).put("d_max", dMax).put("d_numerator", dNumerator)
        .put("k", k).put("started", started).put("step_lr", stepLr).put("exp_avg", expAvg).put("exp_avg_sq", expAvgSq)
        .put("s", s).put("p0", p0);
  }

  @Override public void load(State st) {
    lr = st.number("lr");
    beta1 = st.number("beta1");
    d = st.number("d");
    dMax = st.number("d_max");
    dNumerator = st.number("d_numerator");
    k = st.integer("k");
    started = st.bool("started");
    stepLr = st.number("step_lr");
    st.copy("exp_avg", expAvg);
    st.copy("exp_avg_sq", expAvgSq);
    st.copy("s", s);
    st.copy("p0", p0);
  }
}
