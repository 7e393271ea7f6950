package io.losswatch.core.problem;

import io.losswatch.core.config.Options;
import java.util.Arrays;

/**
 * Logistic regression on breast_cancer (569 × 30, features standardized with population std, target 0/1).
 * Parameters (w[30], b), starting at 0; z_r = x_r·w + b. f = mean_r [max(z,0) − z·y + log1p(exp(−|z|))]
 * (binary cross-entropy with logits, stable); ∇_w = (1/n) Σ_r (σ(z_r) − y_r) x_r, ∇_b likewise;
 * ∇² = (1/n) Σ_r σ(z_r)·σ(−z_r) x̃_r x̃_rᵀ with x̃_r = (x_r, 1). No options.
 */
public final class LogisticRegression implements Problem {
  private static final class Data {
    static final Dataset D = Dataset.load("breast_cancer").standardized(false);
  }

  public record Config() implements Problem.Config {
    @Override
    public String type() {
      return "logreg";
    }

    @Override
    public long parameters() {
      return 31;
    }

    @Override
    public long evaluationCost() {
      return 569L * (2 * 31 + 3 * EXP);   // 569 rows: forward, backward, a few exp and log
    }

    @Override
    public Problem create() {
      return new LogisticRegression();
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
    Arrays.fill(grad, 0, p + 1, 0.0);
    double sum = 0;
    for (int r = 0; r < n; r++) {
      double z = logit(w, r);
      double y = d.y[r];
      sum += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
      double g = (sigmoid(z) - y) / n;
      int o = r * p;
      for (int j = 0; j < p; j++) grad[j] += g * d.x[o + j];
      grad[p] += g;
    }
    return sum / n;
  }

  @Override
  public void hessianVector(double[] w, double[] v, double[] hv) {
    int n = d.rows;
    int p = d.cols;
    Arrays.fill(hv, 0, p + 1, 0.0);
    for (int r = 0; r < n; r++) {
      double z = logit(w, r);
      int o = r * p;
      double dz = v[p];
      for (int j = 0; j < p; j++) dz += d.x[o + j] * v[j];
      double g = sigmoid(z) * sigmoid(-z) * dz / n;
      for (int j = 0; j < p; j++) hv[j] += g * d.x[o + j];
      hv[p] += g;
    }
  }

  /** The fraction of rows with (z > 0) == (y == 1). */
  @Override
  public double accuracy(double[] w) {
    int hits = 0;
    for (int r = 0; r < d.rows; r++) {
      if ((logit(w, r) > 0) == (d.y[r] == 1)) hits++;
    }
    return (double) hits / d.rows;
  }

  private double logit(double[] w, int r) {
    int p = d.cols;
    int o = r * p;
    double z = w[p];
    for (int j = 0; j < p; j++) z += d.x[o + j] * w[j];
    return z;
  }

  /** σ(z) without overflow: exp is only taken of a non-positive number. */
  static double sigmoid(double z) {
    if (z >= 0) return 1 / (1 + Math.exp(-z));
    double e = Math.exp(z);
    return e / (1 + e);
  }
}
