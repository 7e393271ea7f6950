package io.losswatch.core.problem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class GradientCheckTest {
  private static final double H = 1e-6;
  private static final double TOL = 1e-6;

  /** Every problem under test, with the spread of its random test point (HessianCheckTest checks the same). */
  record Case(String name, Supplier<Problem> make, double spread) {
  }

  static List<Case> cases() {
    return List.of(
        new Case("quadratic", () -> new Quadratic.Config(new double[] {10, -3, 0.5}).create(), 3),
        new Case("ellipse", () -> new Ellipse.Config().create(), 3),
        new Case("rosenbrock", () -> new Rosenbrock.Config().create(), 1.5),
        new Case("linreg", () -> new LinearRegression.Config().create(), 0.5),
        new Case("logreg", () -> new LogisticRegression.Config().create(), 0.3),
        new Case("softmax", () -> new SoftmaxRegression.Config().create(), 1),
        new Case("mlp h8", () -> new Mlp.Config(8, 0, 0).create(), 0.3),
        new Case("mlp h8 b64", () -> {
          Problem p = new Mlp.Config(8, 3, 64).create();
          p.nextBatch();
          p.nextBatch();
          p.nextBatch();
          return p;
        }, 0.3));
  }

  @Test
  void analyticGradientsMatchCentralDifferences() {
    SplittableRandom rng = new SplittableRandom(42);
    for (Case c : cases()) {
      Problem p = c.make().get();
      checkGradient(c.name() + " at start", p, p.initialParams());
      double[] x = new double[p.dimension()];
      for (int i = 0; i < x.length; i++) x[i] = c.spread() * (2 * rng.nextDouble() - 1);
      checkGradient(c.name() + " at random point", p, x);
    }
  }

  private static void checkGradient(String what, Problem p, double[] x) {
    int n = p.dimension();
    assertEquals(n, x.length, what);
    double[] g = new double[n];
    Arrays.fill(g, 12345);
    double f = p.evaluate(x, g);
    assertTrue(Double.isFinite(f), what + ": loss " + f);
    // a second call overwrites (not accumulates) and gives the same answer
    double[] g2 = new double[n];
    Arrays.fill(g2, -777);
    assertEquals(f, p.evaluate(x, g2), 0.0, what + ": loss changed on a second call");
    assertArrayEquals(g, g2, 0.0, what + ": gradient changed on a second call");

    double[] scratch = new double[n];
    double worst = 0;
    for (int i = 0; i < n; i++) {
      double xi = x[i];
      x[i] = xi + H;
      double fp = p.evaluate(x, scratch);
      x[i] = xi - H;
      double fm = p.evaluate(x, scratch);
      x[i] = xi;
      double num = (fp - fm) / (2 * H);
      double scale = Math.max(1, Math.max(Math.abs(g[i]), Math.abs(num)));
      double err = Math.abs(g[i] - num) / scale;
      worst = Math.max(worst, err);
      assertTrue(err <= TOL, what + ": coordinate " + i + " analytic " + g[i] + " numeric " + num);
    }
    System.out.printf("gradient check %-32s dim %4d  loss %.6f  worst scaled error %.2e%n", what, n, f, worst);
  }

  @Test
  void knownValues() {
    double[] g = new double[1];
    Problem q = new Quadratic.Config(new double[] {10}).create();
    assertEquals(100, q.evaluate(q.initialParams(), g), 0);
    assertEquals(20, g[0], 0);
    assertEquals(q.initialParams()[0], Quadratic.read(
        io.losswatch.core.config.Options.of("problem", "quadratic")).create().initialParams()[0]);

    Problem e = new Ellipse();
    g = new double[2];
    assertArrayEquals(new double[] {-5, -2}, e.initialParams());
    assertEquals(0.1 * 25 + 2 * 4, e.evaluate(e.initialParams(), g), 1e-12);
    assertArrayEquals(new double[] {-1, -8}, g, 1e-12);

    Problem r = new Rosenbrock();
    assertArrayEquals(new double[] {-1.2, 1}, r.initialParams());
    assertEquals(0, r.evaluate(new double[] {1, 1}, g), 0);
    assertArrayEquals(new double[] {0, 0}, g, 0);
    assertEquals(2.2 * 2.2 + 100 * 0.44 * 0.44, r.evaluate(r.initialParams(), g), 1e-12);

    Problem lin = new LinearRegression();
    assertEquals(11, lin.dimension());
    assertEquals(1.0, lin.evaluate(lin.initialParams(), new double[11]), 1e-12);

    Problem log = new LogisticRegression();
    assertEquals(31, log.dimension());
    assertEquals(Math.log(2), log.evaluate(log.initialParams(), new double[31]), 1e-12);

    Problem soft = new SoftmaxRegression();
    assertEquals(15, soft.dimension());
    assertEquals(Math.log(3), soft.evaluate(soft.initialParams(), new double[15]), 1e-12);

    Problem mlp = new Mlp(32, 0, 0);
    assertEquals(64 * 32 + 32 + 32 * 10 + 10, mlp.dimension());
    double[] zeros = new double[mlp.dimension()];
    assertEquals(Math.log(10), mlp.evaluate(zeros, new double[mlp.dimension()]), 1e-12);
  }

  @Test
  void standardizedDataHasZeroMeanAndUnitPopulationVariance() {
    Dataset d = Dataset.load("diabetes").standardized(true);
    assertEquals(442, d.rows);
    assertEquals(10, d.cols);
    for (int j = 0; j <= d.cols; j++) {
      double s = 0;
      double ss = 0;
      for (int r = 0; r < d.rows; r++) {
        double v = j < d.cols ? d.x[r * d.cols + j] : d.y[r];
        s += v;
        ss += v * v;
      }
      assertEquals(0, s / d.rows, 1e-12, "mean of column " + j);
      assertEquals(1, ss / d.rows, 1e-12, "variance of column " + j);
    }
    Dataset digits = Dataset.load("digits");
    assertEquals(1797, digits.rows);
    assertEquals(64, digits.cols);
  }

  @Test
  void classifiersReportAccuracy() {
    assertTrue(Double.isNaN(new Quadratic(new double[] {1}).accuracy(new double[] {1})));
    assertTrue(Double.isNaN(new LinearRegression().accuracy(new double[11])));
    // at zero logits logreg predicts class 0 (malignant: 212 of 569) and softmax class 0 (setosa: 50 of 150)
    assertEquals(212.0 / 569, new LogisticRegression().accuracy(new double[31]), 1e-15);
    assertEquals(50.0 / 150, new SoftmaxRegression().accuracy(new double[15]), 1e-15);
    double a = new Mlp(16, 0, 0).accuracy(new Mlp(16, 0, 0).initialParams());
    assertTrue(a >= 0 && a <= 1);
  }

  @Test
  void nonFiniteInputsGiveNonFiniteLossWithoutThrowing() {
    for (Case c : cases()) {
      Problem p = c.make().get();
      double[] x = p.initialParams();
      x[0] = Double.NaN;
      double f = p.evaluate(x, new double[p.dimension()]);
      assertFalse(Double.isFinite(f), c.name() + ": " + f);
    }
  }

  @Test
  void mlpTanhAgreesWithMathTanh() {
    SplittableRandom rng = new SplittableRandom(9);
    for (int i = 0; i < 200_000; i++) {
      double a = (2 * rng.nextDouble() - 1) * Math.pow(10, rng.nextInt(-12, 3));
      assertEquals(Math.tanh(a), Mlp.tanh(a), 3e-16, "tanh(" + a + ")");
      assertEquals(-Mlp.tanh(a), Mlp.tanh(-a), 0);
    }
    assertEquals(1, Mlp.tanh(Double.POSITIVE_INFINITY), 0);
    assertEquals(-1, Mlp.tanh(Double.NEGATIVE_INFINITY), 0);
    assertTrue(Double.isNaN(Mlp.tanh(Double.NaN)));
    assertEquals(0, Mlp.tanh(0), 0);
  }

  @Test
  void mlpNonFiniteWeightsPoisonEverything() {
    Mlp p = new Mlp(8, 0, 0);
    double[] g = new double[p.dimension()];
    for (int k : new int[] {0, 5, 64 * 8 - 1, 64 * 8 + 3, 64 * 8 + 8 + 7, p.dimension() - 1}) {
      double[] x = p.initialParams();
      if (k != 64 * 8 + 3) { // an infinite hidden bias only saturates its tanh, as in torch
        x[k] = Double.POSITIVE_INFINITY;
        assertTrue(Double.isNaN(p.evaluate(x, g)), "weight " + k);
      }
      x[k] = Double.NaN;
      assertTrue(Double.isNaN(p.evaluate(x, g)), "weight " + k);
    }
    double[] x = p.initialParams();
    x[0] = Double.NaN; // W1 of pixel 0, which is 0 in every image
    p.evaluate(x, g);
    for (double v : g) assertTrue(Double.isNaN(v));
  }

  @Test
  void mlpInitIsSeededInLayoutOrderLikeTorchLinear() {
    int hid = 8;
    double[] x = new Mlp(hid, 5, 0).initialParams();
    assertArrayEquals(x, new Mlp(hid, 5, 64).initialParams(), 0);
    assertFalse(Arrays.equals(x, new Mlp(hid, 6, 0).initialParams()));
    SplittableRandom rng = new SplittableRandom(5);
    int k = 0;
    for (; k < 64 * hid; k++) {
      assertEquals(rng.nextDouble(-0.125, 0.125), x[k], 0);
    }
    for (; k < 64 * hid + hid; k++) assertEquals(0, x[k], 0);
    double b2 = 1 / Math.sqrt(hid);
    for (; k < 64 * hid + hid + hid * 10; k++) {
      assertEquals(rng.nextDouble(-b2, b2), x[k], 0);
      assertTrue(Math.abs(x[k]) < b2);
    }
    for (; k < x.length; k++) assertEquals(0, x[k], 0);
  }

  @Test
  void mlpMinibatchesCoverEveryRowOncePerEpoch() {
    int bs = 64;
    Mlp full = new Mlp(8, 1, 0);
    Mlp mini = new Mlp(8, 1, bs);
    double[] x = full.initialParams();
    double[] g = new double[full.dimension()];
    double fullLoss = full.evaluate(x, g);
    full.nextBatch(); // no-op for full batch
    assertEquals(fullLoss, full.evaluate(x, g), 0);

    // before any nextBatch the current batch is batch 0, and the first nextBatch keeps it
    double before = mini.evaluate(x, g);
    mini.nextBatch();
    assertEquals(before, mini.evaluate(x, g), 0);
    assertEquals(bs, mini.currentBatchSize());

    int batches = (1797 + bs - 1) / bs; // 29: 28 of 64 and one of 5
    double[] firstEpoch = new double[batches];
    for (int epoch = 0; epoch < 3; epoch++) {
      double weighted = 0;
      int rows = 0;
      for (int b = 0; b < batches; b++) {
        if (epoch > 0 || b > 0) mini.nextBatch();
        int size = mini.currentBatchSize();
        assertEquals(b < batches - 1 ? bs : 1797 - (batches - 1) * bs, size);
        double f = mini.evaluate(x, g);
        if (epoch == 0) firstEpoch[b] = f;
        else if (b == 0) assertNotEquals(firstEpoch[0], f, "epoch " + epoch + " reshuffled");
        weighted += f * size;
        rows += size;
      }
      assertEquals(1797, rows);
      assertEquals(fullLoss, weighted / rows, 1e-12, "epoch " + epoch);
    }
    // the same seed replays the same batches
    Mlp again = new Mlp(8, 1, bs);
    for (int b = 0; b < batches; b++) {
      again.nextBatch();
      assertEquals(firstEpoch[b], again.evaluate(x, g), 0);
    }
  }

  @Test
  void evaluateAllocatesNothing() {
    Assumptions.assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    Assumptions.assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
    long id = Thread.currentThread().getId();
    for (Case c : cases()) {
      Problem p = c.make().get();
      double[] x = p.initialParams();
      double[] g = new double[p.dimension()];
      for (int i = 0; i < 3; i++) {
        p.nextBatch();
        p.evaluate(x, g);
      }
      long before = mx.getThreadAllocatedBytes(id);
      for (int i = 0; i < 20; i++) {
        p.nextBatch();
        p.evaluate(x, g);
      }
      long used = mx.getThreadAllocatedBytes(id) - before;
      assertTrue(used < 1024, c.name() + " allocated " + used + " bytes in 20 steps");
    }
  }
}
