package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * Schedule-Free SGD, as the authors' reference {@code SGDScheduleFreeReference} (facebookresearch/schedule_free,
 * {@code schedulefree/sgd_schedulefree_reference.py}): SGD's step taken by z, averaged into x, the gradient taken
 * at y ({@link ScheduleFree} has the warmup and the averaging). The base step, at warmed-up lr_k:
 * <pre>
 *   g ← g + λy                                             (weight_decay λ)
 *   z ← z − lr_k·g
 *   x, y as ScheduleFree, with β = momentum
 * </pre>
 * The step reports lr_k. Defazio et al., https://arxiv.org/abs/2405.15682.
 */
public final class ScheduleFreeSgd implements Optimizer {
  /** The authors' arguments and defaults. */
  public record Config(double lr, double momentum, double weightDecay, int warmupSteps, double r, double weightLrPower)
      implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", 1.0, v -> v > 0, "must be > 0");
      double momentum = o.number("momentum", 0.9, v -> v > 0 && v < 1, "must be in (0, 1)");
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      int warmupSteps = ScheduleFree.warmupSteps(o);
      double r = ScheduleFree.r(o);
      double weightLrPower = ScheduleFree.weightLrPower(o);
      return new Config(lr, momentum, weightDecay, warmupSteps, r, weightLrPower);
    }

    @Override public String type() {
      return "schedulefree_sgd";
    }

    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public boolean setsOwnStep() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new ScheduleFreeSgd(this, dimension);
    }
  }

  private final Config c;
  private final ScheduleFree sf;
  private double lr;
  private double momentum;

  ScheduleFreeSgd(Config c, int dimension) {
    this.c = c;
    lr = c.lr;
    momentum = c.momentum;
    sf = new ScheduleFree(c.warmupSteps, c.r, c.weightLrPower, dimension);
  }

  @Override public void step(double[] params, double[] grad) {
    double lrK = sf.begin(lr, params);
    double[] z = sf.z;
    double[] y = sf.y;
    for (int i = 0; i < params.length; i++) {
      double g = c.weightDecay != 0 ? grad[i] + c.weightDecay * y[i] : grad[i];
      z[i] = z[i] - lrK * g;
    }
    sf.finish(params, momentum);
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
    this.momentum = momentum;
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
    return sf.put(new State().put("lr", lr).put("momentum", momentum));
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    momentum = s.number("momentum");
    sf.load(s);
  }
}
