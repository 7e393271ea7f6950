package io.losswatch.core.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Lanczos' largest eigenvalue against a dense Jacobi solve, on matrices chosen to trip it. */
class LanczosTest {
  /** A random symmetric n×n matrix with the given eigenvalues (Q·diag·Qᵀ, Q from Gram–Schmidt). */
  private static double[] withEigenvalues(double[] eig, long seed) {
    int n = eig.length;
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] q = new double[n][n];
    for (int k = 0; k < n; k++) {
      for (int i = 0; i < n; i++) q[k][i] = rng.nextGaussian();
      for (int j = 0; j < k; j++) {
        double c = 0;
        for (int i = 0; i < n; i++) c += q[j][i] * q[k][i];
        for (int i = 0; i < n; i++) q[k][i] -= c * q[j][i];
      }
      double s = 0;
      for (int i = 0; i < n; i++) s += q[k][i] * q[k][i];
      for (int i = 0; i < n; i++) q[k][i] /= Math.sqrt(s);
    }
    double[] a = new double[n * n];
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < n; c++) {
        double sum = 0;
        for (int k = 0; k < n; k++) sum += q[k][r] * eig[k] * q[k][c];
        a[r * n + c] = sum;
      }
    }
    return a;
  }

  private static Lanczos.Operator times(double[] a, int n) {
    return (v, out) -> {
      for (int r = 0; r < n; r++) {
        double s = 0;
        for (int c = 0; c < n; c++) s += a[r * n + c] * v[c];
        out[r] = s;
      }
    };
  }

  private static double dense(double[] a, int n) {
    return Jacobi.top(a.clone(), n, new double[n * n], new double[n]);
  }

  /** Eigenvalues uniform in [−5, 5], with twists: a larger negative one, a repeated top, a null half. */
  private static double[] spectrum(SplittableRandom rng, int n, int trial) {
    double[] eig = new double[n];
    for (int i = 0; i < n; i++) eig[i] = rng.nextDouble(-5, 5);
    if (trial % 4 == 1) eig[0] = -50;                  // power iteration would find this one
    if (trial % 4 == 2 && n > 2) eig[1] = eig[2] = 7;   // a repeated top
    if (trial % 4 == 3) java.util.Arrays.fill(eig, 0, n / 2, 0.0);
    return eig;
  }

  @Test
  void runToTheWholeSpaceItIsExact() {
    SplittableRandom rng = new SplittableRandom(11);
    for (int trial = 0; trial < 40; trial++) {
      int n = 1 + rng.nextInt(Lanczos.MAX_STEPS);
      double[] a = withEigenvalues(spectrum(rng, n, trial), trial);
      double want = dense(a, n);
      double got = new Lanczos(n, Lanczos.MAX_STEPS, 1e-14).top(times(a, n), new double[n]);
      assertEquals(want, got, 1e-12 * Math.max(1, Math.abs(want)), "trial " + trial + ", n " + n);
    }
  }

  @Test
  void withinOnePercentEvenOnADenseSpectrumAndCloseWhereTheTopStandsOut() {
    SplittableRandom rng = new SplittableRandom(12);
    for (int trial = 0; trial < 30; trial++) {
      int n = 1 + rng.nextInt(150);
      double[] eig = spectrum(rng, n, trial);
      double[] a = withEigenvalues(eig, trial);
      double want = dense(a, n);
      double floor = 1e-12 * 50;   // the spectrum's scale: a top of 0 is known to its rounding
      // no gap to speak of, cold: 40 products may not sort the top from its neighbours, but they are within 1%
      double got = new Lanczos(n).top(times(a, n), new double[n]);
      assertTrue(got <= want + floor && got >= want - 0.01 * Math.abs(want) - floor,
          "trial " + trial + ", n " + n + ": " + got + " vs " + want);
      // a Hessian's top stands out of its bulk: then it is found within (TOL·θ)²/gap, here 1e-6/5
      eig[0] = 10;
      a = withEigenvalues(eig, trial);
      assertEquals(10, new Lanczos(n).top(times(a, n), new double[n]), 2e-7, "trial " + trial);
    }
  }

  @Test
  void aStartInsideAnInvariantSubspaceStillFindsTheTop() {
    // diag(0.2, 4, 1): e1 spans an invariant subspace with 0.2 alone
    double[] a = {0.2, 0, 0, 0, 4, 0, 0, 0, 1};
    double[] start = {1, 0, 0};
    assertEquals(4, new Lanczos(3).top(times(a, 3), start), 1e-12);
    assertEquals(1, Math.abs(start[1]), 1e-9, "the eigenvector comes back");
    // 2I: every vector is an eigenvector, the basis closes at once
    double[] twice = {2, 0, 0, 2};
    assertEquals(2, new Lanczos(2).top(times(twice, 2), new double[2]), 1e-15);
  }

  @Test
  void aWarmStartConvergesInFewerProducts() {
    int n = 300;
    double[] eig = new double[n];
    for (int i = 0; i < n; i++) eig[i] = 10.0 * i / n;
    double[] a = withEigenvalues(eig, 5);
    Lanczos l = new Lanczos(n);
    double[] x = new double[n];
    double cold = l.top(times(a, n), x);
    int coldSteps = l.steps();
    double warm = l.top(times(a, n), x);
    assertEquals(dense(a, n), warm, 1e-3);
    assertEquals(cold, warm, 1e-3);
    assertTrue(l.steps() < coldSteps, "warm " + l.steps() + " products, cold " + coldSteps);
  }

  @Test
  void takenOneProductAtATimeItIsTheSameMeasurement() {
    int n = 80;
    SplittableRandom rng = new SplittableRandom(3);
    double[] eig = new double[n];
    for (int i = 0; i < n; i++) eig[i] = rng.nextDouble(-1, 3);
    double[] a = withEigenvalues(eig, 9);
    double[] x1 = new double[n];
    double[] x2 = new double[n];
    double whole = new Lanczos(n).top(times(a, n), x1);
    Lanczos parts = new Lanczos(n);
    parts.begin(times(a, n), x2);
    int calls = 0;
    while (!parts.advance()) {
      calls++;
      assertTrue(Double.isNaN(parts.result()), "no result before the end");
    }
    assertEquals(whole, parts.result(), 0.0);
    assertArrayEquals(x1, x2, 0.0);
    assertEquals(parts.steps(), calls + 1);
  }

  @Test
  void aNonFiniteProductGivesNaNAndKeepsTheWarmStart() {
    double[] x = {0.6, 0.8};
    double got = new Lanczos(2).top((v, out) -> java.util.Arrays.fill(out, Double.NaN), x);
    assertTrue(Double.isNaN(got));
    assertArrayEquals(new double[] {0.6, 0.8}, x, 0.0);
  }

  @Test
  void theTridiagonalSolverAgreesWithJacobi() {
    SplittableRandom rng = new SplittableRandom(4);
    Tridiagonal t = new Tridiagonal(40);
    for (int trial = 0; trial < 200; trial++) {
      int m = 1 + rng.nextInt(40);
      double[] alpha = new double[m];
      double[] beta = new double[m];
      for (int i = 0; i < m; i++) {
        alpha[i] = rng.nextDouble(-3, 3);
        beta[i] = trial % 5 == 0 && rng.nextInt(4) == 0 ? 0 : rng.nextDouble(-1, 1);   // split blocks too
      }
      double[] dense = new double[m * m];
      for (int i = 0; i < m; i++) {
        dense[i * m + i] = alpha[i];
        if (i + 1 < m) dense[i * m + i + 1] = dense[(i + 1) * m + i] = beta[i];
      }
      double[] s = new double[m];
      double got = t.top(alpha, beta, m, s);
      assertEquals(dense(dense, m), got, 1e-13 * 4, "trial " + trial);
      // T·s = θ·s
      for (int i = 0; i < m; i++) {
        double ts = alpha[i] * s[i] + (i > 0 ? beta[i - 1] * s[i - 1] : 0) + (i + 1 < m ? beta[i] * s[i + 1] : 0);
        assertEquals(got * s[i], ts, 1e-10, "trial " + trial + " row " + i);
      }
    }
  }
}
