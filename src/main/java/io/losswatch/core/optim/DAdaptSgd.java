package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * D-Adaptation SGD, as {@code dadaptation.DAdaptSGD} (facebookresearch/dadaptation, {@code dadaptation/dadapt_sgd.py}):
 * dual averaging whose step grows from d0 to a lower bound on the distance to the solution. With g0 the first
 * gradient and x0 the first point:
 * <pre>
 *   dlr ← d·lr / ‖g0‖                                     (‖g0‖ without weight decay, as the authors')
 *   g ← g + λθ                                            (weight_decay λ)
 *   r ← r + dlr·⟨g, s⟩;   s ← s + dlr·g
 *   d̂ ← 2r / ‖s‖₂;   d ← max(d, min(d̂, d·growth_rate))
 *   if ‖s‖ = 0: stop here (nothing to learn from)
 *   z ← x0 − s;   θ ← μ·θ + (1−μ)·z                       (momentum μ)
 * </pre>
 * The step reports dlr, the step its gradient sum takes: the lr a plain SGD step would compare with (d alone is a
 * distance). Where the authors' code divides by a zero first gradient, this one takes no step and waits for one.
 * Defazio and Mishchenko, https://arxiv.org/abs/2301.07733.
 */
public final class DAdaptSgd implements Optimizer {
  /**
   * The authors' arguments and defaults; their {@code log_every} only prints and {@code fsdp_in_use} is for sharded
   * training: neither is here.
   */
  public record Config(double lr, double momentum, double weightDecay, double d0, double growthRate)
      implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", 1.0, v -> v > 0, "must be > 0");
      double momentum = o.number("momentum", 0, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      double d0 = o.number("d0", 1e-6, v -> v > 0, "must be > 0");
      double growthRate = LrFree.growthRate(o);
      return new Config(lr, momentum, weightDecay, d0, growthRate);
    }

    @Override public String type() {
      return "dadapt_sgd";
    }

    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public boolean setsOwnStep() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new DAdaptSgd(this, dimension);
    }
  }

  private final Config c;
  private final double[] s;
  private final double[] x0;
  private double lr;
  private double momentum;
  private double d;
  private double numeratorWeighted;
  private double g0Norm;
  private long k;
  private boolean started;
  private double stepLr = Double.NaN;

  DAdaptSgd(Config c, int dimension) {
    this.c = c;
    lr = c.lr;
    momentum = c.momentum;
    d = c.d0;
    s = new double[dimension];
    x0 = new double[dimension];
  }

  @Override public void step(double[] params, double[] grad) {
    int n = params.length;
    double ck = 1 - momentum;
    double decay = c.weightDecay;
    if (k == 0) {
      double gSq = 0;
      for (double g : grad) gSq += g * g;
      g0Norm = Math.sqrt(gSq);
    }
    double dlr = g0Norm == 0 ? 0 : d * lr / g0Norm;
    stepLr = dlr;
    if (!started) {
      System.arraycopy(params, 0, x0, 0, n);
      started = true;
    }
    double delta = 0;
    double skSq = 0;
    for (int i = 0; i < n; i++) {
      double g = decay != 0 ? grad[i] + decay * params[i] : grad[i];
      delta += g * s[i];
      s[i] = s[i] + dlr * g;
      skSq += s[i] * s[i];
    }
    double numerator = numeratorWeighted + dlr * delta;
    double dHat = 2 * numerator / Math.sqrt(skSq);
    double nextD = LrFree.max(d, LrFree.min(dHat, d * c.growthRate));
    if (skSq == 0) return;   // as the authors': no gradient yet, no step
    numeratorWeighted = numerator;
    d = nextD;
    double keep = 1 - ck;
    for (int i = 0; i < n; i++) {
      double z = x0[i] - s[i];
      params[i] = params[i] * keep + ck * z;
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
    this.momentum = momentum;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("momentum", momentum).put("d", d).put("numerator_weighted", numeratorWeighted)
        .put("g0_norm", g0Norm).put("k", k).put("started", started).put("step_lr", stepLr).put("s", s).put("x0", x0);
  }

  @Override public void load(State st) {
    lr = st.number("lr");
    momentum = st.number("momentum");
    d = st.number("d");
    numeratorWeighted = st.number("numerator_weighted");
    g0Norm = st.number("g0_norm");
    k = st.integer("k");
    started = st.bool("started");
    stepLr = st.number("step_lr");
    st.copy("s", s);
    st.copy("x0", x0);
  }
}
