package io.losswatch.core.optim;

import io.losswatch.core.state.State;

/**
 * A gradient-descent optimizer with {@code torch.optim} semantics, over one flat parameter vector (a single
 * torch param group). It updates the parameters in place and allocates nothing per step: its state is sized
 * once, at construction.
 *
 * <p>The learning rate and, where the algorithm has one, the momentum are mutable between steps, the way a
 * torch scheduler writes {@code param_group['lr']} and {@code param_group['momentum']} (or Adam's beta1).
 */
public interface Optimizer {
  /** One update of {@code params} from {@code grad}, as torch's {@code optimizer.step()}. */
  void step(double[] params, double[] grad);

  /** The lr a scheduler or a person sets ({@code param_group['lr']}); for the learning-rate-free ones, a multiplier. */
  double lr();

  void setLr(double lr);

  /**
   * The step size the last {@link #step} took, as a run reports it: {@link #lr()} for torch's optimizers, the
   * adapted d·lr for D-Adaptation and Prodigy, the warmed-up lr for Schedule-Free (what their papers plot).
   */
  default double stepLr() {
    return lr();
  }

  /**
   * Sets the momentum a one-cycle schedule cycles: SGD's and RMSprop's {@code momentum}, Adam's
   * {@code betas[0]}. Only called when {@link Config#hasMomentum()} holds.
   */
  default void setMomentum(double momentum) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no momentum");
  }

  /**
   * The stability threshold of the step just taken: the largest lr·λ at which it does not overshoot along a
   * direction of curvature λ of a quadratic, with λ an eigenvalue of P⁻¹H when {@link #preconditioned()} (derived
   * in {@link io.losswatch.core.curvature.Curvature}). NaN when not known.
   */
  default double stabilityThreshold() {
    return Double.NaN;
  }

  /** Whether it divides the gradient per coordinate by a denominator P, so that P⁻¹H is the curvature it sees. */
  default boolean preconditioned() {
    return false;
  }

  /** Writes the denominator P its last step divided by, one per parameter (torch's {@code denom}). */
  default void denominator(double[] out) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not precondition");
  }

  /** Everything a step reads that a step changes, as torch's {@code optimizer.state_dict()}. */
  State state();

  /** Takes back a {@link #state()} of an optimizer built from the same config and dimension. */
  void load(State s);

  /** Validated hyperparameters, built once from a RunSpec; each {@link #create} call is a fresh optimizer. */
  interface Config {
    /** The optimizer's name in a RunSpec: one of {@link Optimizers#TYPES}. */
    String type();

    /** The initial learning rate. */
    double lr();

    /** Whether a one-cycle schedule can cycle this optimizer's momentum (torch: 'momentum' or 'betas'). */
    boolean hasMomentum();

    /**
     * Whether the optimizer sets its own step size (D-Adaptation, Prodigy, Schedule-Free): its lr is a multiplier of
     * what it finds, so advice to move the lr ×10 or ÷10 is no advice for it.
     */
    default boolean setsOwnStep() {
      return false;
    }

    Optimizer create(int dimension);
  }
}
