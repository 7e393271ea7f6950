package io.losswatch.core.problem;

import io.losswatch.core.config.Options;

/** f(x) = 0.1·x1² + 2·x2², ∇f = (0.2·x1, 4·x2), ∇²f = diag(0.2, 4), starting at (−5, −2). No options. */
public final class Ellipse implements Problem {
  public record Config() implements Problem.Config {
    @Override
    public String type() {
      return "ellipse";
    }

    @Override
    public long parameters() {
      return 2;
    }

    @Override
    public long evaluationCost() {
      return 6;
    }

    @Override
    public Problem create() {
      return new Ellipse();
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
    return new double[] {-5, -2};
  }

  @Override
  public double evaluate(double[] x, double[] grad) {
    grad[0] = 0.2 * x[0];
    grad[1] = 4 * x[1];
    return 0.1 * x[0] * x[0] + 2 * x[1] * x[1];
  }

  @Override
  public void hessianVector(double[] x, double[] v, double[] hv) {
    hv[0] = 0.2 * v[0];
    hv[1] = 4 * v[1];
  }

  @Override
  public boolean constantHessian() {
    return true;
  }
}
