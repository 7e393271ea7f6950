package io.losswatch.core.problem;

import io.losswatch.core.config.Options;

/**
 * f(x) = (1 − x1)² + 100·(x2 − x1²)², minimum 0 at (1, 1), starting at (−1.2, 1). No options.
 * ∇f = (−2(1 − x1) − 400·x1·(x2 − x1²), 200·(x2 − x1²));
 * ∇²f = [[2 − 400·(x2 − x1²) + 800·x1², −400·x1], [−400·x1, 200]].
 */
public final class Rosenbrock implements Problem {
  public record Config() implements Problem.Config {
    @Override
    public String type() {
      return "rosenbrock";
    }

    @Override
    public long parameters() {
      return 2;
    }

    @Override
    public long evaluationCost() {
      return 12;
    }

    @Override
    public Problem create() {
      return new Rosenbrock();
    }
  }

  /** There are no options; {@link Problems#read} rejects any extra key. */
  public static Config read(Options o) {
    return new Config();
  }

  @Override
  public int dimension() {
    return 2;
  }

  @Override
  public double[] initialParams() {
    return new double[] {-1.2, 1};
  }

  @Override
  public double evaluate(double[] x, double[] grad) {
    double x1 = x[0];
    double x2 = x[1];
    double a = 1 - x1;
    double b = x2 - x1 * x1;
    grad[0] = -2 * (1 - x1) - 400 * x1 * (x2 - x1 * x1);
    grad[1] = 200 * (x2 - x1 * x1);
    return a * a + 100 * b * b;
  }

  @Override
  public void hessianVector(double[] x, double[] v, double[] hv) {
    double x1 = x[0];
    double h11 = 2 - 400 * (x[1] - x1 * x1) + 800 * x1 * x1;
    double h12 = -400 * x1;
    double v0 = v[0];
    hv[0] = h11 * v0 + h12 * v[1];
    hv[1] = h12 * v0 + 200 * v[1];
  }
}
