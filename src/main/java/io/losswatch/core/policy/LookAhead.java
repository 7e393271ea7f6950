package io.losswatch.core.policy;

import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;

/**
 * Short what-if runs forked from a trainer's exact state: one branch per lr factor, each {@link #horizon} steps
 * under the run's own schedule (scaled as {@code /lr} scales it) and the same minibatches. Stepped in slices
 * ({@link #advance}), so a caller on an event loop can bound each slice by time. Pure: no threads, no clock.
 */
public final class LookAhead {
  /** What one branch came to: its loss over its last tenth of the horizon (NaN if it went non-finite). */
  public record Outcome(double factor, double lr, double endLoss) {
    public boolean finite() {
      return Double.isFinite(endLoss);
    }
  }

  private final int horizon;
  private final int tail;
  private final double[] factors;
  private final double[] lrs;
  private final Trainer[] branches;
  private final double[] tailSum;
  private final boolean[] broken;
  private final long fromStep;

  public LookAhead(Trainer from, double[] factors, int horizon) {
    this.horizon = horizon;
    this.tail = Math.max(1, horizon / 10);
    this.factors = factors.clone();
    this.fromStep = from.stepsTaken();
    branches = new Trainer[factors.length];
    lrs = new double[factors.length];
    tailSum = new double[factors.length];
    broken = new boolean[factors.length];
    for (int i = 0; i < factors.length; i++) {
      branches[i] = from.forkWithoutCurvature();   // only its losses count
      lrs[i] = factors[i] == 1 ? from.nextLr() : Diagnoser.nice(from.nextLr() * factors[i]);   // 0.11, not 0.11000000000000001
      if (factors[i] != 1) branches[i].setLr(lrs[i]);
    }
  }

  public long fromStep() {
    return fromStep;
  }

  public int horizon() {
    return horizon;
  }

  /**
   * Takes up to {@code steps} steps in all, spread over the branches that are still going; returns true once
   * every branch has run its horizon (or broken down).
   */
  public boolean advance(long steps) {
    for (long k = 0; k < steps; k++) {
      int i = next();
      if (i < 0) return true;
      Trainer t = branches[i];
      t.step();
      double loss = t.loss();
      if (!Double.isFinite(loss) || !Double.isFinite(t.gradNorm())) {
        broken[i] = true;
        branches[i] = null;
        continue;
      }
      if (t.stepsTaken() - fromStep > horizon - tail) tailSum[i] += loss;
      if (t.stepsTaken() - fromStep >= horizon) branches[i] = null;   // done: let it go
    }
    return next() < 0;
  }

  /** The branch that is furthest behind, or -1 when all are done. */
  private int next() {
    int best = -1;
    for (int i = 0; i < branches.length; i++) {
      if (branches[i] != null && (best < 0 || branches[i].stepsTaken() < branches[best].stepsTaken())) best = i;
    }
    return best;
  }

  public Outcome[] outcomes() {
    Outcome[] out = new Outcome[factors.length];
    for (int i = 0; i < factors.length; i++) {
      out[i] = new Outcome(factors[i], lrs[i], broken[i] ? Double.NaN : tailSum[i] / tail);
    }
    return out;
  }
}
