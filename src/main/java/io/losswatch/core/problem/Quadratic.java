package io.losswatch.core.problem;

import io.losswatch.core.config.Options;
import java.util.Arrays;

/** f(x) = Σ x_i², ∇f = 2x, ∇²f = 2I, starting at {@code x0} (option {@code x0}, default [10]). */
public final class Quadratic implements Problem {
  /** @param x0 the starting point: finite, non-empty (copied in and out) */
  public record Config(double[] x0) implements Problem.Config {
    public Config {
      if (x0 == null || x0.length == 0) throw new IllegalArgumentException("x0 must not be empty");
      x0 = x0.clone();
    }

    @Override
    public double[] x0() {
      return x0.clone();
    }

    @Override
    public String type() {
      return "quadratic";
    }

    @Override
    public long parameters() {
      return x0.length;
    }

    @Override
    public long evaluationCost() {
      return 2L * x0.length;
    }

    @Override
    public Problem create() {
      return new Quadratic(x0);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Config c && Arrays.equals(x0, c.x0);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(x0);
    }

    @Override
    public String toString() {
      return "Quadratic.Config[x0=" + Arrays.toString(x0) + "]";
    }
  }

  /** Reads option {@code x0}: a non-empty array of finite numbers, default [10]. */
  public static Config read(Options o) {
    return new Config(o.numbers("x0", new double[] {10}, -1, v -> true, "must be a number"));
  }

  private final double[] x0;

  public Quadratic(double[] x0) {
    this.x0 = x0.clone();
  }

  @Override
  public int dimension() {
    return x0.length;
  }

  @Override
  public double[] initialParams() {
    return x0.clone();
  }

  @Override
  public double evaluate(double[] x, double[] grad) {
    double f = 0;
    for (int i = 0; i < x0.length; i++) {
      f += x[i] * x[i];
      grad[i] = 2 * x[i];
    }
    return f;
  }

  @Override
  public void hessianVector(double[] x, double[] v, double[] hv) {
    for (int i = 0; i < x0.length; i++) hv[i] = 2 * v[i];
  }

  @Override
  public boolean constantHessian() {
    return true;
  }
}
