package io.losswatch.core.curvature;

/**
 * The largest eigenvalue of a symmetric tridiagonal matrix and its eigenvector, in O(m) work per call, so that
 * Lanczos can look at its Ritz pair after every product: the eigenvalue by bisection on Sturm counts (LAPACK's
 * dstebz: the number of negative pivots of T − xI is the number of eigenvalues below x), the eigenvector by two
 * rounds of inverse iteration with a partially pivoted tridiagonal solve (LAPACK's dgttrf/dgtts2). Accurate to
 * about the rounding of ‖T‖. Allocation-free; each instance serves matrices of up to its capacity.
 */
final class Tridiagonal {
  private static final double EPS = 0x1.0p-52;
  private final double[] diag;
  private final double[] upper;
  private final double[] upper2;
  private final double[] lower;
  private final boolean[] swapped;

  Tridiagonal(int capacity) {
    diag = new double[capacity];
    upper = new double[capacity];
    upper2 = new double[capacity];
    lower = new double[capacity];
    swapped = new boolean[capacity];
  }

  /**
   * The largest eigenvalue of the m×m matrix with {@code a} on the diagonal and {@code b} beside it (b[i] joins rows
   * i and i+1), its unit eigenvector written into {@code s}. NaN if a number in it is not finite.
   */
  double top(double[] a, double[] b, int m, double[] s) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    double norm = 0;
    for (int i = 0; i < m; i++) {
      double r = (i > 0 ? Math.abs(b[i - 1]) : 0) + (i < m - 1 ? Math.abs(b[i]) : 0);
      lo = Math.min(lo, a[i] - r);
      hi = Math.max(hi, a[i] + r);
      norm = Math.max(norm, Math.abs(a[i]) + r);
    }
    if (!Double.isFinite(norm)) return Double.NaN;
    if (m == 1 || norm == 0) {
      java.util.Arrays.fill(s, 0, m, 0.0);
      s[0] = 1;
      return m == 1 ? a[0] : 0;
    }
    if (m == 2) return top2(a[0], a[1], b[0], s);
    double pivmin = Double.MIN_NORMAL * Math.max(1, norm * norm);
    // Gershgorin brackets every eigenvalue; keep [lo, hi] holding exactly the top one: below(lo) < m, below(hi) = m
    lo -= 2 * EPS * norm;
    hi += 2 * EPS * norm;
    // to the rounding of ‖T‖, which is what its eigenvalues are known to: at most about 60 halvings
    for (int k = 0; k < 128 && hi - lo > EPS * norm; k++) {
      double mid = 0.5 * (lo + hi);
      if (below(a, b, m, mid, pivmin) == m) hi = mid;
      else lo = mid;
    }
    double theta = 0.5 * (lo + hi);
    eigenvector(a, b, m, theta, norm, s);
    return theta;
  }

  /**
   * [[a0, b], [b, a1]] in closed form, the two-parameter problems' whole measurement: θ = mean + hypot(half, b) with
   * half = (a0 − a1)/2, and of the eigenvector's two forms, (half + r, b) and (b, r − half), the one without
   * cancellation.
   */
  private static double top2(double a0, double a1, double b, double[] s) {
    double half = 0.5 * (a0 - a1);
    double r = Math.hypot(half, b);
    double x = half >= 0 ? half + r : b;
    double y = half >= 0 ? b : r - half;
    double size = Math.hypot(x, y);
    if (size == 0) {
      s[0] = 1;
      s[1] = 0;
    } else {
      s[0] = x / size;
      s[1] = y / size;
    }
    return 0.5 * (a0 + a1) + r;
  }

  /** How many eigenvalues lie below x: the negative pivots of the LDLᵀ factors of T − xI. */
  private static int below(double[] a, double[] b, int m, double x, double pivmin) {
    int count = 0;
    double d = 1;
    for (int i = 0; i < m; i++) {
      d = a[i] - x - (i > 0 ? b[i - 1] * b[i - 1] / d : 0);
      if (Math.abs(d) < pivmin) d = -pivmin;
      if (d < 0) count++;
    }
    return count;
  }

  /** Inverse iteration: s ← (T − θI)⁻¹s, normalized, twice from a fixed start. */
  private void eigenvector(double[] a, double[] b, int m, double theta, double norm, double[] s) {
    factor(a, b, m, theta, EPS * norm);
    for (int i = 0; i < m; i++) s[i] = 1 + 0.1 * ((i * 7) % 11);   // no special structure
    for (int round = 0; round < 2; round++) {
      solve(m, s);
      double size = 0;
      for (int i = 0; i < m; i++) size = Math.max(size, Math.abs(s[i]));
      for (int i = 0; i < m; i++) s[i] /= size;   // against overflow before the norm
      double n2 = 0;
      for (int i = 0; i < m; i++) n2 += s[i] * s[i];
      double inv = 1 / Math.sqrt(n2);
      for (int i = 0; i < m; i++) s[i] *= inv;
    }
  }

  /** LU of T − θI with partial pivoting (dgttrf); a zero pivot becomes {@code tiny}, as inverse iteration wants. */
  private void factor(double[] a, double[] b, int m, double theta, double tiny) {
    for (int i = 0; i < m; i++) {
      diag[i] = a[i] - theta;
      if (i < m - 1) {
        upper[i] = b[i];
        lower[i] = b[i];
      }
      upper2[i] = 0;
    }
    for (int i = 0; i < m - 1; i++) {
      if (Math.abs(diag[i]) >= Math.abs(lower[i])) {
        swapped[i] = false;
        if (diag[i] == 0) diag[i] = tiny;
        double f = lower[i] / diag[i];
        lower[i] = f;
        diag[i + 1] -= f * upper[i];
      } else {
        swapped[i] = true;
        double f = diag[i] / lower[i];
        diag[i] = lower[i];
        lower[i] = f;
        double u = upper[i];
        upper[i] = diag[i + 1];
        diag[i + 1] = u - f * diag[i + 1];
        if (i < m - 2) {
          upper2[i] = upper[i + 1];
          upper[i + 1] = -f * upper[i + 1];
        }
      }
    }
    if (diag[m - 1] == 0) diag[m - 1] = tiny;
  }

  /** Solves with the factors in place (dgtts2). */
  private void solve(int m, double[] x) {
    for (int i = 0; i < m - 1; i++) {
      if (swapped[i]) {
        double t = x[i];
        x[i] = x[i + 1];
        x[i + 1] = t - lower[i] * x[i];
      } else {
        x[i + 1] -= lower[i] * x[i];
      }
    }
    x[m - 1] /= diag[m - 1];
    if (m > 1) x[m - 2] = (x[m - 2] - upper[m - 2] * x[m - 1]) / diag[m - 2];
    for (int i = m - 3; i >= 0; i--) x[i] = (x[i] - upper[i] * x[i + 1] - upper2[i] * x[i + 2]) / diag[i];
  }
}
