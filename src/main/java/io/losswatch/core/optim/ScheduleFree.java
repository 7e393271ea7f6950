package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * What the two Schedule-Free optimizers share, as the authors' reference classes have it: the warmup, the
 * averaging weights, and the three sequences. z takes the base optimizer's steps, x is their weighted average (the
 * point to evaluate), and y, between them, is where the gradient is taken; in train mode the parameters are y, in
 * eval mode x ({@link #eval}, {@link #train}). At step k (from 0):
 * <pre>
 *   lr_k ← lr·min(1, (k+1)/warmup_steps);   lr_max ← max(lr_max, lr_k)
 *   w ← (k+1)^r · lr_max^weight_lr_power;   c ← w / Σw   (0 while Σw = 0)
 *   z ← the base step from z (at the gradient taken at y)
 *   x ← (1−c)·x + c·z;   y ← β·x + (1−β)·z;   θ ← y
 * </pre>
 */
final class ScheduleFree {
  final int warmupSteps;
  final double r;
  final double weightLrPower;
  final double[] x;
  final double[] y;
  final double[] z;
  private long k;
  private double weightSum;
  private double lrMax = -1;
  private boolean trainMode = true;
  private boolean started;
  private double ckp1;
  private double stepLr = Double.NaN;

  ScheduleFree(int warmupSteps, double r, double weightLrPower, int dimension) {
    this.warmupSteps = warmupSteps;
    this.r = r;
    this.weightLrPower = weightLrPower;
    x = new double[dimension];
    y = new double[dimension];
    z = new double[dimension];
  }

  /** Reads {@code warmup_steps}, {@code r} and {@code weight_lr_power}, with the authors' defaults. */
  static int warmupSteps(Options o) {
    return o.integer("warmup_steps", 0, 0);
  }

  static double r(Options o) {
    return o.number("r", 0, v -> v >= 0, "must be >= 0");
  }

  static double weightLrPower(Options o) {
    return o.number("weight_lr_power", 2, v -> v >= 0, "must be >= 0");
  }

  /** Starts step k: its warmed-up lr (returned), and the averaging weight {@link #finish} uses. */
  double begin(double lr, double[] params) {
    if (!trainMode) {
      throw new IllegalStateException("Schedule-Free steps in train mode only: call train() after eval()");
    }
    double sched = k < warmupSteps ? (double) (k + 1) / warmupSteps : 1.0;
    double scheduled = lr * sched;
    stepLr = scheduled;
    lrMax = LrFree.max(scheduled, lrMax);
    double weight = Math.pow(k + 1, r) * Math.pow(lrMax, weightLrPower);
    weightSum = weightSum + weight;
    ckp1 = weightSum == 0 ? 0 : weight / weightSum;   // the authors catch the ZeroDivisionError
    if (!started) {
      System.arraycopy(params, 0, z, 0, params.length);
      System.arraycopy(params, 0, x, 0, params.length);
      System.arraycopy(params, 0, y, 0, params.length);
      started = true;
    }
    return scheduled;
  }

  /** Ends step k once z has moved: x averages z in, y interpolates with {@code beta}, the parameters become y. */
  void finish(double[] params, double beta) {
    for (int i = 0; i < params.length; i++) {
      x[i] = x[i] * (1 - ckp1) + ckp1 * z[i];
      y[i] = x[i] * beta + (1 - beta) * z[i];
      params[i] = y[i];
    }
    k++;
  }

  /** The steps taken. */
  long k() {
    return k;
  }

  /** The warmed-up lr the last step used. */
  double stepLr() {
    return stepLr;
  }

  /** Puts the parameters at x, the average, as the authors' {@code optimizer.eval()}. */
  void eval(double[] params) {
    if (!trainMode) return;
    if (started) System.arraycopy(x, 0, params, 0, params.length);
    trainMode = false;
  }

  /** Puts the parameters back at y, as the authors' {@code optimizer.train()}. */
  void train(double[] params) {
    if (trainMode) return;
    if (started) System.arraycopy(y, 0, params, 0, params.length);
    trainMode = true;
  }

  boolean trainMode() {
    return trainMode;
  }

  State put(State s) {
    return s.put("k", k).put("weight_sum", weightSum).put("lr_max", lrMax).put("train_mode", trainMode)
        .put("started", started).put("step_lr", stepLr).put("x", x).put("y", y).put("z", z);
  }

  void load(State s) {
    k = s.integer("k");
    weightSum = s.number("weight_sum");
    lrMax = s.number("lr_max");
    trainMode = s.bool("train_mode");
    started = s.bool("started");
    stepLr = s.number("step_lr");
    s.copy("x", x);
    s.copy("y", y);
    s.copy("z", z);
  }
}
