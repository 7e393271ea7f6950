package io.losswatch.core.curvature;

/**
 * A reference for the tests: the eigenvalues of a small symmetric matrix by cyclic Jacobi rotations (Golub and Van Loan, §8.5): each rotation
 * zeroes one off-diagonal pair, the sweeps converge quadratically, and the result is accurate to rounding. Simple
 * and robust for the few dozen rows a Lanczos tridiagonal has.
 */
final class Jacobi {
  private static final int MAX_SWEEPS = 64;

  private Jacobi() {
  }

  /**
   * The largest eigenvalue of the symmetric m×m matrix {@code a} (row-major; overwritten), with its unit eigenvector
   * written into {@code top}; {@code v} (m×m) is work space. NaN if {@code a} holds a non-finite number.
   */
  static double top(double[] a, int m, double[] v, double[] top) {
    java.util.Arrays.fill(v, 0, m * m, 0.0);
    for (int i = 0; i < m; i++) v[i * m + i] = 1;
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      double off = 0;
      double diag = 0;
      for (int p = 0; p < m; p++) {
        diag += a[p * m + p] * a[p * m + p];
        for (int r = p + 1; r < m; r++) off += a[p * m + r] * a[p * m + r];
      }
      if (!Double.isFinite(off + diag)) return Double.NaN;
      if (off <= 1e-34 * diag || off == 0) break;
      for (int p = 0; p < m; p++) {
        for (int r = p + 1; r < m; r++) {
          double apr = a[p * m + r];
          if (apr != 0) rotate(a, v, m, p, r, apr);
        }
      }
    }
    int best = 0;
    for (int i = 1; i < m; i++) if (a[i * m + i] > a[best * m + best]) best = i;
    for (int i = 0; i < m; i++) top[i] = v[i * m + best];
    return a[best * m + best];
  }

  /** A ← JᵀAJ and V ← VJ for the rotation J in the (p, r) plane that zeroes a_pr. */
  private static void rotate(double[] a, double[] v, int m, int p, int r, double apr) {
    double theta = (a[r * m + r] - a[p * m + p]) / (2 * apr);
    double t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
    double c = 1 / Math.sqrt(t * t + 1);
    double s = t * c;
    for (int k = 0; k < m; k++) {
      double akp = a[k * m + p];
      double akr = a[k * m + r];
      a[k * m + p] = c * akp - s * akr;
      a[k * m + r] = s * akp + c * akr;
    }
    for (int k = 0; k < m; k++) {
      double apk = a[p * m + k];
      double ark = a[r * m + k];
      a[p * m + k] = c * apk - s * ark;
      a[r * m + k] = s * apk + c * ark;
    }
    for (int k = 0; k < m; k++) {
      double vkp = v[k * m + p];
      double vkr = v[k * m + r];
      v[k * m + p] = c * vkp - s * vkr;
      v[k * m + r] = s * vkp + c * vkr;
    }
  }
}
