package io.losswatch.core.problem;

import io.losswatch.core.config.Options;
import java.util.Arrays;

/**
 * Multinomial logistic regression on iris (150 × 4, features standardized with population std, 3 classes).
 * Parameters W (4×3 row-major, W[j*3 + k]) then b (3), starting at 0; logits z = xW + b.
 * f = mean_r [logsumexp(z_r) − z_r[y_r]] via a log-softmax that subtracts the row max;
 * ∂f/∂z_r = (softmax(z_r) − onehot(y_r)) / n; ∂²f/∂z_r² = (diag(p_r) − p_r p_rᵀ) / n with p_r = softmax(z_r).
 * No options.
 */
public final class SoftmaxRegression implements Problem {
  private static final int K = 3;

  private static final class Data {
    static final Dataset D = Dataset.load("iris").standardized(false);
  }

  public record Config() implements Problem.Config {
    @Override
    public String type() {
      return "softmax";
    }

    @Override
    public long parameters() {
      return 15;
    }

    @Override
    public long evaluationCost() {
      return 150L * (2 * 15 + 4 * EXP);   // 150 rows: 4 × 3 weights and 3 biases, a few exp
    }

    @Override
    public Problem create() {
      return new SoftmaxRegression();
    }
  }

  /** There are no options; {@link Problems#read} rejects any extra key. */
  public static Config read(Options o) {
    return new Config();
  }

  private final Dataset d = Data.D;
  private final double[] z = new double[K];
  private final double[] dz = new double[K];

  @Override
  public int dimension() {
    return d.cols * K + K;
  }

  @Override
  public double[] initialParams() {
    return new double[dimension()];
  }

  @Override
  public double evaluate(double[] w, double[] grad) {
    int n = d.rows;
    int p = d.cols;
    int bo = p * K;
    Arrays.fill(grad, 0, bo + K, 0.0);
    double sum = 0;
    for (int r = 0; r < n; r++) {
      logits(w, r);
      int label = (int) d.y[r];
      double m = Math.max(Math.max(z[0], z[1]), z[2]);
      double s = 0;
      for (int k = 0; k < K; k++) s += Math.exp(z[k] - m);
      double lse = m + Math.log(s);
      sum += lse - z[label];
      for (int k = 0; k < K; k++) z[k] = (Math.exp(z[k] - lse) - (k == label ? 1 : 0)) / n;
      int o = r * p;
      for (int j = 0; j < p; j++) {
        double xj = d.x[o + j];
        for (int k = 0; k < K; k++) grad[j * K + k] += xj * z[k];
      }
      for (int k = 0; k < K; k++) grad[bo + k] += z[k];
    }
    return sum / n;
  }

  /** Per row: the direction's logits dz = x·V_W + v_b, then (diag(p) − ppᵀ)·dz / n back through x. */
  @Override
  public void hessianVector(double[] w, double[] v, double[] hv) {
    int n = d.rows;
    int p = d.cols;
    int bo = p * K;
    Arrays.fill(hv, 0, bo + K, 0.0);
    for (int r = 0; r < n; r++) {
      logits(w, r);
      double m = Math.max(Math.max(z[0], z[1]), z[2]);
      double s = 0;
      for (int k = 0; k < K; k++) s += Math.exp(z[k] - m);
      double lse = m + Math.log(s);
      int o = r * p;
      for (int k = 0; k < K; k++) dz[k] = v[bo + k];
      for (int j = 0; j < p; j++) {
        double xj = d.x[o + j];
        for (int k = 0; k < K; k++) dz[k] += xj * v[j * K + k];
      }
      double pdz = 0;
      for (int k = 0; k < K; k++) {
        z[k] = Math.exp(z[k] - lse);   // z becomes p
        pdz += z[k] * dz[k];
      }
      for (int k = 0; k < K; k++) dz[k] = z[k] * (dz[k] - pdz) / n;
      for (int j = 0; j < p; j++) {
        double xj = d.x[o + j];
        for (int k = 0; k < K; k++) hv[j * K + k] += xj * dz[k];
      }
      for (int k = 0; k < K; k++) hv[bo + k] += dz[k];
    }
  }

  /** The fraction of rows whose argmax logit (first on ties) is the label. */
  @Override
  public double accuracy(double[] w) {
    int hits = 0;
    for (int r = 0; r < d.rows; r++) {
      logits(w, r);
      int best = 0;
      for (int k = 1; k < K; k++) if (z[k] > z[best]) best = k;
      if (best == (int) d.y[r]) hits++;
    }
    return (double) hits / d.rows;
  }

  /** Writes the logits of row r into {@link #z}. */
  private void logits(double[] w, int r) {
    int p = d.cols;
    int o = r * p;
    for (int k = 0; k < K; k++) z[k] = w[p * K + k];
    for (int j = 0; j < p; j++) {
      double xj = d.x[o + j];
      for (int k = 0; k < K; k++) z[k] += xj * w[j * K + k];
    }
  }
}
