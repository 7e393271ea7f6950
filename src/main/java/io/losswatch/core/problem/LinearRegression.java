package io.losswatch.core.problem;

import io.losswatch.core.config.Options;
import java.util.Arrays;

/**
 * Least squares on the diabetes data (442 × 10), features and target standardized (population std).
 * Parameters x = (w[10], b), starting at 0. f = mean_r (x_r·w + b − y_r)²; ∇_w = (2/n) Σ_r res_r x_r,
 * ∇_b = (2/n) Σ_r res_r; the Hessian is constant, (2/n)·X̃ᵀX̃ with X̃ = [X 1]. No options.
 */
public final class LinearRegression implements Problem {
  private static final class Data {
    static final Dataset D = Dataset.load("diabetes").standardized(true);
  }

  public record Config() implements Problem.Config {
    @Override
    public String type() {
      return "linreg";
    }

    @Override
    public long parameters() {
      return 11;
    }

    @Override
    public long evaluationCost() {
      return 442L * 2 * 11;   // 442 rows: forward and backward over w (10) and b
    }

    @Override
    public Problem create() {
      return new LinearRegression();
    }
  }

  /** There are no options; {@link Problems#read} rejects any extra key. */
  public static Config read(Options o) {
    return new Config();
  }

  private final Dataset d = Data.D;

  @Override
  public int dimension() {
    return d.cols + 1;
  }

  @Override
  public double[] initialParams() {
    return new double[dimension()];
  }

  @Override
  public double evaluate(double[] w, double[] grad) {
    int n = d.rows;
    int p = d.cols;
    double[] x = d.x;
    Arrays.fill(grad, 0, p + 1, 0.0);
    double sum = 0;
    double scale = 2.0 / n;
    for (int r = 0; r < n; r++) {
      int o = r * p;
      double z = w[p];
      for (int j = 0; j < p; j++) z += x[o + j] * w[j];
      double res = z - d.y[r];
      sum += res * res;
      double g = scale * res;
      for (int j = 0; j < p; j++) grad[j] += g * x[o + j];
      grad[p] += g;
    }
    return sum / n;
  }

  /** (2/n) Σ_r (x̃_r·v) x̃_r, with x̃_r = (x_r, 1). */
  @Override
  public void hessianVector(double[] w, double[] v, double[] hv) {
    int n = d.rows;
    int p = d.cols;
    double[] x = d.x;
    Arrays.fill(hv, 0, p + 1, 0.0);
    double scale = 2.0 / n;
    for (int r = 0; r < n; r++) {
      int o = r * p;
      double dz = v[p];
      for (int j = 0; j < p; j++) dz += x[o + j] * v[j];
      double g = scale * dz;
      for (int j = 0; j < p; j++) hv[j] += g * x[o + j];
      hv[p] += g;
    }
  }

  @Override
  public boolean constantHessian() {
    return true;
  }
}
