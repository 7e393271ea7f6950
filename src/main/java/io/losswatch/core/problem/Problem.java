package io.losswatch.core.problem;

import io.losswatch.core.state.State;

/**
 * A training objective over a flat parameter vector: its loss and exact analytic gradient.
 *
 * <p>Implementations preallocate their work buffers, so {@link #evaluate} allocates nothing per step.
 * A problem is used by one thread at a time.
 */
public interface Problem {
  /** The number of parameters. */
  int dimension();

  /** A fresh copy of the starting point. */
  double[] initialParams();

  /**
   * The loss at {@code x} over the current sample (the whole dataset, or the current minibatch), with the
   * gradient written into {@code grad} (length {@link #dimension()}).
   */
  double evaluate(double[] x, double[] grad);

  /**
   * The Hessian of the loss at {@code x} over the current sample (the one {@link #evaluate} uses: for a minibatch
   * problem, the current minibatch) times {@code v}, written into {@code hv}: exact, analytic (no finite
   * differences), allocation-free, and changing nothing (the sample included). Non-finite where the loss is.
   */
  void hessianVector(double[] x, double[] v, double[] hv);

  /** Whether the Hessian is the same at every point and on every sample (a quadratic loss): measured once, then. */
  default boolean constantHessian() {
    return false;
  }

  /** Moves to the next minibatch; the trainer calls it once before each step. No-op for full-batch problems. */
  default void nextBatch() {
  }

  /** Where the minibatches are (their order and its random state); empty for full-batch problems. */
  default State state() {
    return new State();
  }

  /** Takes back a {@link #state()} of a problem built from the same config. */
  default void load(State s) {
  }

  /** Training accuracy over the whole dataset in [0, 1] for classifiers; NaN for other problems. */
  default double accuracy(double[] x) {
    return Double.NaN;
  }

  /** What {@link Config#evaluationCost} counts an exp, log or tanh as: about 20 multiply-adds. */
  long EXP = 20;

  /** A validated problem description that builds fresh, independent problem instances. */
  interface Config {
    /** The problem's name, as in the RunSpec's {@code problem.type}. */
    String type();

    Problem create();

    /** The number of parameters its problems have, known without building one. */
    long parameters();

    /**
     * About how many multiply-adds one {@link Problem#evaluate} takes (an exp, log or tanh counting as
     * {@link #EXP}), estimated from the description alone, so a server can refuse work too heavy for one step
     * before any of it runs.
     */
    long evaluationCost();
  }
}
