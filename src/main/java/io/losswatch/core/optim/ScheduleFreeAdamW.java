package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * Schedule-Free AdamW, as the authors' reference {@code AdamWScheduleFreeReference} (facebookresearch/schedule_free,
 * {@code schedulefree/adamw_schedulefree_reference.py}): AdamW's step taken by z, averaged into x, the gradient
 * taken at y ({@link ScheduleFree} has the warmup and the averaging). The base step, at warmed-up lr_k:
 * <pre>
 *   z ← z − lr_k·λ·(decay_at_z ? z : y)                    (weight_decay λ)
 *   v ← β2·v + (1−β2)·g²;   u ← inner_momentum μ > 0 ? (m ← μm + (1−μ)g) / (1−μ^(k+1)) : g
 *   z ← z − lr_k · u / (√(v / (1−β2^(k+1))) + ε)
 *   x, y as ScheduleFree, with β = β1
 * </pre>
 * Created in train mode, as a training loop calls {@code optimizer.train()} first; the step reports lr_k.
 * Defazio et al., https://arxiv.org/abs/2405.15682.
 */
public final class ScheduleFreeAdamW implements Optimizer {
  /** The authors' arguments and defaults. */
  public record Config(double lr, double beta1, double beta2, double eps, double weightDecay, int warmupSteps, double r,
      double weightLrPower, boolean decayAtZ, double innerMomentum) implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", 0.0025, v -> v > 0, "must be > 0");
      double[] betas = o.numbers("betas", new double[] {0.9, 0.999}, 2, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double eps = o.number("eps", 1e-8, v -> v >= 0, "must be >= 0");
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      int warmupSteps = ScheduleFree.warmupSteps(o);
      double r = ScheduleFree.r(o);
      double weightLrPower = ScheduleFree.weightLrPower(o);
      boolean decayAtZ = o.bool("decay_at_z", false);
      double innerMomentum = o.number("inner_momentum", 0, v -> v >= 0 && v < 1, "must be in [0, 1)");
      return new Config(lr, betas[0], betas[1], eps, weightDecay, warmupSteps, r, weightLrPower, decayAtZ, innerMomentum);
    }

    @Override public String type() {
      return "schedulefree_adamw";
    }

    /** Its 'betas': a one-cycle schedule cycles beta1 (the interpolation), as torch does. */
    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public boolean setsOwnStep() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new ScheduleFreeAdamW(this, dimension);
    }
  }

  private final Config c;
  private final ScheduleFree sf;
  private final double[] expAvgSq;
  private final double[] expAvg;
  private double lr;
  private double beta1;

  ScheduleFreeAdamW(Config c, int dimension) {
    this.c = c;
    lr = c.lr;
    beta1 = c.beta1;
    sf = new ScheduleFree(c.warmupSteps, c.r, c.weightLrPower, dimension);
    expAvgSq = new double[dimension];
    expAvg = new double[dimension];
  }

  @Override public void step(double[] params, double[] grad) {
    long k = sf.k();
    double lrK = sf.begin(lr, params);
    double beta2 = c.beta2;
    double mu = c.innerMomentum;
    double biasCorrection2 = 1 - Math.pow(beta2, k + 1);
    double biasCorrection1 = mu != 0 ? 1 - Math.pow(mu, k + 1) : 1;
    double decay = lrK * c.weightDecay;
    double[] z = sf.z;
    double[] y = sf.y;
    for (int i = 0; i < params.length; i++) {
      double g = grad[i];
      if (c.weightDecay != 0) z[i] = z[i] - decay * (c.decayAtZ ? z[i] : y[i]);
      expAvgSq[i] = expAvgSq[i] * beta2 + (1 - beta2) * g * g;
      double denom = Math.sqrt(expAvgSq[i] / biasCorrection2) + c.eps;
      double u = g;
      if (mu != 0) {
        expAvg[i] = expAvg[i] * mu + (1 - mu) * g;
        u = expAvg[i] / biasCorrection1;
      }
      z[i] = z[i] + -lrK * u / denom;
    }
    sf.finish(params, beta1);
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void setLr(double lr) {
    this.lr = lr;
  }

  @Override public double stepLr() {
    return sf.stepLr();
  }

  @Override public void setMomentum(double momentum) {
    beta1 = momentum;
  }

  /** The parameters to the average x, to evaluate (the authors' {@code eval()}); {@link #train} goes back. */
  public void eval(double[] params) {
    sf.eval(params);
  }

  /** The parameters back to y, where the next gradient is taken (the authors' {@code train()}). */
  public void train(double[] params) {
    sf.train(params);
  }

  @Override public State state() {
    return sf.put(new State().put("lr", lr).put("beta1", beta1).put("exp_avg_sq", expAvgSq).put("exp_avg", expAvg));
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    beta1 = s.number("beta1");
    s.copy("exp_avg_sq", expAvgSq);
    s.copy("exp_avg", expAvg);
    sf.load(s);
  }
}
