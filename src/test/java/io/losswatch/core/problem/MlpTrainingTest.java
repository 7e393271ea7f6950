package io.losswatch.core.problem;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MlpTrainingTest {
  @Test
  void adamReaches95PercentTrainingAccuracyIn300FullBatchSteps() {
    long t0 = System.nanoTime();
    Problem p = new Mlp.Config(32, 0, 0).create();
    double[] x = p.initialParams();
    int n = x.length;
    double[] g = new double[n];
    double[] m = new double[n];
    double[] v = new double[n];
    double lr = 0.01;
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-8;
    double loss = Double.NaN;
    for (int t = 1; t <= 300; t++) {
      p.nextBatch();
      loss = p.evaluate(x, g);
      double bc1 = 1 - Math.pow(b1, t);
      double bc2 = 1 - Math.pow(b2, t);
      for (int i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        x[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps);
      }
    }
    double acc = p.accuracy(x);
    double ms = (System.nanoTime() - t0) / 1e6;
    System.out.printf("mlp (hidden 32, full batch) after 300 Adam steps: loss %.5f, training accuracy %.4f, %.0f ms%n",
        loss, acc, ms);
    assertTrue(acc >= 0.95, "accuracy " + acc);

    // full-batch evaluate throughput, for the record
    long t1 = System.nanoTime();
    for (int i = 0; i < 50; i++) p.evaluate(x, g);
    System.out.printf("mlp full-batch evaluate (1797 rows, hidden 32): %.2f ms each%n",
        (System.nanoTime() - t1) / 1e6 / 50);
  }
}
