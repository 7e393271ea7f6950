package io.losswatch.core.curvature;

import io.losswatch.core.optim.Optimizer;
import io.losswatch.core.problem.Problem;
import io.losswatch.core.state.State;

/**
 * A run's sharpness: the largest eigenvalue λ of the loss' Hessian H at the point where a step's gradient was
 * taken, over that step's sample (for a minibatch problem, the Hessian of the minibatch loss on the very batch the
 * gradient used). For an optimizer that divides the gradient by a per-coordinate denominator P (Adam, AdamW, RMSprop,
 * Adagrad) it is the preconditioned sharpness λ(P⁻¹H) with the P that step divided by, computed as the largest
 * eigenvalue of the symmetric D·H·D, D = P^(−1/2), which has the same eigenvalues. Weight decay is not in H: it is
 * the loss' own Hessian.
 *
 * <p>Measured by {@link Lanczos} on {@link Problem#hessianVector exact Hessian-vector products}, warm-started from the
 * last measurement's eigenvector (within 3e-8 of torch's Hessian's top eigenvalue on every golden case). A constant
 * Hessian (x², the ellipse, least squares) is measured once: its sharpness is the same ever after, unless
 * preconditioned.
 *
 * <p><b>The stability ratio</b> is lr·λ / threshold, the threshold being the optimizer's
 * ({@link Optimizer#stabilityThreshold()}): below 1 the step is stable along the sharpest direction, above 1 it
 * overshoots it more each step. On a quadratic of curvature λ, with a = lr·λ:
 * <ul>
 *   <li>gradient descent multiplies the error by 1 − a: stable while a &lt; 2.
 *   <li>heavy ball as torch has it (b ← μb + (1−τ)g, θ ← θ − lr·b): with c = lr·b, the pair (x_t, c_{t−1}) evolves by
 *       [[1−a', −μ], [a', μ]], a' = (1−τ)·a, whose characteristic polynomial is z² − (1+μ−a')z + μ. Both roots lie
 *       inside the unit circle (Jury) iff μ &lt; 1, a' &gt; 0 and 2 + 2μ − a' &gt; 0: a &lt; 2(1+μ)/(1−τ).
 *   <li>Nesterov (τ = 0, θ ← θ − lr·(g + μb)): the matrix is [[1−a(1+μ), −μ²], [a, μ]], the polynomial
 *       z² − (1+μ)(1−a)z + μ(1−a); the binding condition 1 + (1+2μ)(1−a) &gt; 0 gives a &lt; (2+2μ)/(1+2μ).
 *   <li>Adam/AdamW: m ← β1·m + (1−β1)·g is a heavy ball with μ = τ = β1 on P⁻¹H, so lr·λ(P⁻¹H) &lt; 2(1+β1)/(1−β1)
 *       (38 at β1 = 0.9: Cohen et al. 2022, https://arxiv.org/abs/2207.14484).
 *   <li>RMSprop: 2 on P⁻¹H, 2(1+μ) with momentum; Adagrad: 2, times 1 + (t−1)·lr_decay for its decayed lr.
 * </ul>
 * Not thread-safe; allocation-free after its first measurement.
 */
public final class Curvature {
  private final Problem problem;
  private final Optimizer optimizer;
  private final boolean preconditioned;
  private final Lanczos lanczos;
  private final double[] vector;   // the last measurement's eigenvector: the next one's start
  private final double[] scale;    // D = P^(−1/2)
  private final double[] scaled;
  private final Lanczos.Operator plain = this::product;
  private final Lanczos.Operator withPreconditioner = this::preconditionedProduct;
  private double[] point;
  /** A constant Hessian's sharpness once measured, else NaN; {@link #cached} while a measurement reuses it. */
  private double constant = Double.NaN;
  private boolean cached;

  public Curvature(Problem problem, Optimizer optimizer) {
    this.problem = problem;
    this.optimizer = optimizer;
    preconditioned = optimizer.preconditioned();
    int n = problem.dimension();
    lanczos = new Lanczos(n);
    vector = new double[n];
    scale = preconditioned ? new double[n] : null;
    scaled = preconditioned ? new double[n] : null;
  }

  /** Whether the sharpness is P⁻¹H's (the optimizer preconditions) rather than H's. */
  public boolean preconditioned() {
    return preconditioned;
  }

  /**
   * The sharpness at {@code x}, the point where the step just taken took its gradient, the problem's sample still
   * that step's and the optimizer already past it (its denominator is the one that step used). Changes neither
   * the problem, nor the optimizer, nor {@code x}. NaN where the Hessian is not finite.
   */
  public double measure(double[] x) {
    begin(x);
    while (!advance()) {
      // one product per call
    }
    return result();
  }

  /** {@link #measure} in parts: begins it (reading the optimizer's denominator now), without any product yet. */
  public void begin(double[] x) {
    point = x;
    cached = !Double.isNaN(constant);
    if (cached) return;
    if (preconditioned) {
      optimizer.denominator(scale);
      for (int i = 0; i < scale.length; i++) scale[i] = 1 / Math.sqrt(scale[i]);
    }
    lanczos.begin(preconditioned ? withPreconditioner : plain, vector);
  }

  /** Takes one Hessian-vector product; true when the measurement is done. */
  public boolean advance() {
    if (cached) return true;
    boolean done = lanczos.advance();
    if (done && !preconditioned && problem.constantHessian() && Double.isFinite(lanczos.result())) {
      constant = lanczos.result();
    }
    return done;
  }

  /** The sharpness, once {@link #advance()} said done. */
  public double result() {
    return cached ? constant : lanczos.result();
  }

  /** Hessian-vector products the last measurement took. */
  public int products() {
    return cached ? 0 : lanczos.steps();
  }

  private void product(double[] v, double[] out) {
    problem.hessianVector(point, v, out);
  }

  private void preconditionedProduct(double[] v, double[] out) {
    for (int i = 0; i < v.length; i++) scaled[i] = scale[i] * v[i];
    problem.hessianVector(point, scaled, out);
    for (int i = 0; i < out.length; i++) out[i] *= scale[i];
  }

  /** The warm start, so that a copy's next measurement equals this one's bit for bit. */
  public State state() {
    return new State().put("vector", vector).put("constant", constant);
  }

  /** Takes back a {@link #state()} of a measurer of the same problem and optimizer. */
  public void load(State s) {
    s.copy("vector", vector);
    constant = s.number("constant");
  }
}
