package io.losswatch.core.curvature;

/**
 * The largest eigenvalue of a symmetric linear operator A, and its eigenvector, by the Lanczos iteration with full
 * reorthogonalization (Golub and Van Loan, Matrix Computations, §10.1): each product A·q extends an orthonormal
 * Krylov basis Q, and the largest eigenvalue θ of the tridiagonal T = QᵀAQ ({@link Tridiagonal}, looked at after
 * every product) approaches A's largest from below.
 *
 * <p>It stops when the Ritz pair's residual ‖Aŝ − θŝ‖ = β·|s_last| is within {@link #TOL}·|θ| (an eigenvalue then
 * lies within that of θ, and within its square over the spectral gap when the top stands apart: the goldens against
 * torch agree within 3e-8), when the basis spans the whole space (θ is then exact to rounding, as on x², the ellipse
 * and Rosenbrock), or after {@link #MAX_STEPS} products. Where the basis closes early (an invariant subspace,
 * say a start along one axis of an ellipse) it goes on from a fresh direction, so the top is never missed that way.
 *
 * <p>The start is the given vector (the last measurement's eigenvector: a warm start) tilted by a fixed
 * pseudo-random one, so that a start orthogonal to the new top eigenvector still finds it. The fresh directions
 * come from a fixed hash, not from any random generator: a measurement draws nothing and is reproducible bit for
 * bit. The basis takes up to {@link #MAX_STEPS} vectors: for a small problem all at its first measurement, for a
 * large one each when a measurement first needs it (most take 5 to 12), so a step allocates nothing once the
 * measurements stop needing more than before. Not thread-safe.
 */
public final class Lanczos {
  /** Products at most per measurement, and the width of T. */
  public static final int MAX_STEPS = 40;
  /**
   * The relative residual a Ritz pair stops at: θ is then within 1e-4 of an eigenvalue, and within about
   * (1e-4·θ)²/gap of it (measured on the digits mlp: within 2e-8, in 6 products where 1e-7 takes 11).
   */
  public static final double TOL = 1e-4;
  /** The weight of the fixed pseudo-random direction in the start, against the warm start's 1. */
  static final double TILT = 0.1;
  /** Up to this many doubles, the whole basis is made at once. */
  private static final int EAGER = 1 << 16;
  /** A residual this small against ‖Aq‖ means the basis closed: T's next off-diagonal is zero. */
  private static final double CLOSED = 1e-10;

  /** v ↦ Av for a symmetric A, written into out (never v). */
  public interface Operator {
    void apply(double[] v, double[] out);
  }

  private final int n;
  private final int maxSteps;
  private final double tol;
  private final double[] alpha;
  private final double[] beta;
  private final Tridiagonal t;
  private final double[] s;
  private double[][] q;
  private double[] w;
  private Operator op;
  private double[] target;
  private boolean reopened;
  private double theta;
  private int steps;
  private boolean done = true;

  /** For operators on vectors of length {@code n}. */
  public Lanczos(int n) {
    this(n, MAX_STEPS, TOL);
  }

  /** With another step limit and tolerance (for tests and measurements of the method itself). */
  public Lanczos(int n, int maxSteps, double tol) {
    if (n < 1) throw new IllegalArgumentException("dimension must be >= 1, got " + n);
    this.n = n;
    this.maxSteps = Math.min(n, maxSteps);
    this.tol = tol;
    alpha = new double[maxSteps];
    beta = new double[maxSteps];
    t = new Tridiagonal(maxSteps);
    s = new double[maxSteps];
  }

  /** How many products the last measurement took. */
  public int steps() {
    return steps;
  }

  /**
   * A's largest eigenvalue, starting from {@code x} (any length-n vector; zero or non-finite for none), into which
   * its unit eigenvector is written back. NaN, leaving {@code x} as it was, if A gives a non-finite product.
   */
  public double top(Operator a, double[] x) {
    begin(a, x);
    while (!advance()) {
      // one product per call
    }
    return result();
  }

  /** Starts a measurement that {@link #advance()} takes one product at a time (so an event loop can pause it). */
  public void begin(Operator a, double[] x) {
    if (q == null) {
      q = new double[maxSteps][];
      w = new double[n];
      if ((long) n * maxSteps <= EAGER) for (int k = 0; k < maxSteps; k++) q[k] = new double[n];
    }
    row(0);
    op = a;
    target = x;
    start(x, q[0]);
    reopened = false;
    theta = Double.NaN;
    steps = 0;
    done = false;
  }

  /** Takes the next product; true when the measurement is done and {@link #result()} known. */
  public boolean advance() {
    if (done) return true;
    int k = steps;
    op.apply(q[k], w);
    steps = k + 1;
    double size = norm(w);
    if (!Double.isFinite(size)) {
      theta = Double.NaN;
      return done = true;
    }
    alpha[k] = dot(q[k], w);
    // twice is enough (Kahan, Parlett): w ⟂ q_0..q_k to rounding, which also takes out α_k·q_k and β_{k−1}·q_{k−1}
    orthogonalize(w, k + 1);
    orthogonalize(w, k + 1);
    double b = norm(w);
    int m = k + 1;
    theta = t.top(alpha, beta, m, s);   // T_m: α_0..α_k, β_0..β_{k−1}
    if (m == maxSteps || !Double.isFinite(theta)) return finish();
    if (b <= CLOSED * size) {
      beta[k] = 0;
      if (!reopen(k + 1)) return finish();
      reopened = true;
      return false;
    }
    beta[k] = b;
    // after a reopening, a Ritz pair of a closed block has no residual yet the top may lie outside it
    if (!reopened && b * Math.abs(s[k]) <= tol * Math.abs(theta)) return finish();
    double inv = 1 / b;
    double[] next = row(k + 1);
    for (int i = 0; i < n; i++) next[i] = w[i] * inv;
    return false;
  }

  /** Basis vector k, made on first need. */
  private double[] row(int k) {
    if (q[k] == null) q[k] = new double[n];
    return q[k];
  }

  /** The largest eigenvalue found: NaN before the measurement is done or where A was not finite. */
  public double result() {
    return done ? theta : Double.NaN;
  }

  /** Writes the Ritz vector Q·s, the next start, into the caller's vector. */
  private boolean finish() {
    if (Double.isFinite(theta)) {
      java.util.Arrays.fill(target, 0.0);
      for (int j = 0; j < steps; j++) {
        double c = s[j];
        double[] qj = q[j];
        for (int i = 0; i < n; i++) target[i] += c * qj[i];
      }
    }
    return done = true;
  }

  /** The start: x/‖x‖ tilted by TILT·f/‖f‖ for the fixed direction f, normalized into out. */
  private void start(double[] x, double[] out) {
    fresh(out, 0);
    scale(out, 1 / norm(out));
    double size = norm(x);
    if (size > 0 && Double.isFinite(size)) {
      for (int i = 0; i < n; i++) out[i] = x[i] / size + TILT * out[i];
      scale(out, 1 / norm(out));
    }
  }

  /** Puts a fresh direction ⟂ q_0..q_{k−1} into q_k; false if none of a few is (the basis then spans the space). */
  private boolean reopen(int k) {
    for (int attempt = 1; attempt <= 4; attempt++) {
      double[] v = row(k);
      fresh(v, attempt * 0x632BE59BD9B4E019L + k);
      double size = norm(v);
      orthogonalize(v, k);
      orthogonalize(v, k);
      double left = norm(v);
      if (left > 1e-6 * size) {
        scale(v, 1 / left);
        return true;
      }
    }
    return false;
  }

  private void orthogonalize(double[] v, int k) {
    for (int j = 0; j < k; j++) {
      double[] qj = q[j];
      double c = dot(qj, v);
      for (int i = 0; i < n; i++) v[i] -= c * qj[i];
    }
  }

  /** A fixed pseudo-random vector in [−1, 1)ⁿ, the k-th of its sequence: SplitMix64's finalizer over a counter. */
  private void fresh(double[] v, long k) {
    long base = k * 0x9E3779B97F4A7C15L;
    for (int i = 0; i < n; i++) {
      long z = base + (i + 1) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
      v[i] = (z >>> 11) * 0x1.0p-52 - 1;
    }
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) sum += a[i] * b[i];
    return sum;
  }

  private static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }

  private static void scale(double[] a, double c) {
    for (int i = 0; i < a.length; i++) a[i] *= c;
  }
}
