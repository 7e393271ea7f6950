package io.losswatch.core.problem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every problem's Hessian-vector product against central differences of its own (checked) gradient, H·v ≈
 * (∇f(x + hv) − ∇f(x − hv)) / 2h, and the Hessian's symmetry u·Hv = v·Hu, at the start and at a random point.
 */
class HessianCheckTest {
  private static final double H = 1e-5;
  private static final double TOL = 1e-6;

  @Test
  void productsMatchDifferencesOfTheGradient() {
    SplittableRandom rng = new SplittableRandom(7);
    for (GradientCheckTest.Case c : GradientCheckTest.cases()) {
      Problem p = c.make().get();
      check(c.name() + " at start", p, p.initialParams(), rng);
      double[] x = new double[p.dimension()];
      for (int i = 0; i < x.length; i++) x[i] = c.spread() * (2 * rng.nextDouble() - 1);
      check(c.name() + " at random point", p, x, rng);
    }
  }

  private static void check(String what, Problem p, double[] x, SplittableRandom rng) {
    int n = p.dimension();
    double[] u = random(n, rng);
    double[] v = random(n, rng);
    double[] hv = new double[n];
    Arrays.fill(hv, 12345);
    p.hessianVector(x, v, hv);
    double[] again = new double[n];
    p.hessianVector(x, v, again);
    assertArrayEquals(hv, again, 0.0, what + ": a second product differs (it must overwrite, not accumulate)");

    double[] plus = new double[n];
    double[] minus = new double[n];
    double[] xp = x.clone();
    double[] xm = x.clone();
    for (int i = 0; i < n; i++) {
      xp[i] += H * v[i];
      xm[i] -= H * v[i];
    }
    p.evaluate(xp, plus);
    p.evaluate(xm, minus);
    double scale = 1;
    for (double d : hv) scale = Math.max(scale, Math.abs(d));
    double worst = 0;
    for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs(hv[i] - (plus[i] - minus[i]) / (2 * H)) / scale);
    assertTrue(worst < TOL, what + ": H·v differs from the gradient's differences by " + worst + " (relative)");

    double[] hu = new double[n];
    p.hessianVector(x, u, hu);
    double uhv = dot(u, hv);
    double vhu = dot(v, hu);
    assertEquals(uhv, vhu, 1e-12 * Math.max(1, Math.abs(uhv)), what + ": u·Hv vs v·Hu");
  }

  @Test
  void aHessianSaidConstantIsTheSameEverywhere() {
    SplittableRandom rng = new SplittableRandom(3);
    for (GradientCheckTest.Case c : GradientCheckTest.cases()) {
      Problem p = c.make().get();
      int n = p.dimension();
      double[] v = random(n, rng);
      double[] a = new double[n];
      double[] b = new double[n];
      p.hessianVector(random(n, rng), v, a);
      p.hessianVector(random(n, rng), v, b);
      double scale = 0;
      for (double d : a) scale = Math.max(scale, Math.abs(d));
      double diff = 0;
      for (int i = 0; i < n; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
      boolean same = diff <= 1e-12 * scale;
      assertEquals(same, p.constantHessian(), c.name() + ": H·v moved by " + diff + " between two points");
    }
  }

  @Test
  void aProductLeavesTheMinibatchWhereItWas() {
    Problem p = new Mlp.Config(8, 3, 64).create();
    p.nextBatch();
    p.nextBatch();
    double[] x = p.initialParams();
    double[] g = new double[x.length];
    double before = p.evaluate(x, g);
    double[] v = random(x.length, new SplittableRandom(1));
    p.hessianVector(x, v, new double[x.length]);
    assertEquals(before, p.evaluate(x, g), 0.0);
    assertEquals(p.state().integer("start"), 64);
  }

  @Test
  void aNonFiniteWeightOfAnUnlitPixelGivesNaNAsTheLossDoes() {
    Problem p = new Mlp.Config(4, 0, 0).create();
    double[] x = p.initialParams();
    x[0] = Double.POSITIVE_INFINITY;   // pixel 0 is 0 in every digit
    double[] hv = new double[x.length];
    p.hessianVector(x, random(x.length, new SplittableRandom(2)), hv);
    for (double d : hv) assertTrue(Double.isNaN(d));
  }

  private static double[] random(int n, SplittableRandom rng) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = 2 * rng.nextDouble() - 1;
    return v;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }
}
