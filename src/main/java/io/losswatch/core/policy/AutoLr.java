package io.losswatch.core.policy;

import io.losswatch.core.diagnosis.FailedLrs;

/**
 * auto_lr's limits, the same for every run: it never moves the lr past ×{@link #MAX_RAISE} or ÷{@link #MAX_CUT} of the
 * lr it started from, never raises within {@link #COOL_DOWN} steps of a cut it made, gives up after
 * {@link #MAX_REVERSALS} reversals, and never goes to an lr the run failed at. What it may apply is its caller's
 * business (proven advice, or advice safe by the diagnosis' rules). Pure.
 */
public final class AutoLr {
  public static final double MAX_RAISE = 1e4;
  public static final double MAX_CUT = 1e4;
  public static final int MAX_REVERSALS = 3;
  /** No raise within this many steps of a cut. */
  public static final int COOL_DOWN = 200;

  private double scale = 1;
  private long lastCut = Long.MIN_VALUE / 2;
  private int lastDirection;
  private int reversals;
  private int changes;

  /**
   * Whether auto_lr takes the advice to go ×{@code factor} to {@code lr} at {@code step}; if so it is counted (its
   * caller sets the lr). {@code failed}: the run's memory (null: none).
   */
  public boolean take(double factor, double lr, long step, FailedLrs failed) {
    if (!(factor > 0) || factor == 1 || !FailedLrs.usable(lr) || failed != null && !failed.allows(lr)) return false;
    int direction = factor > 1 ? 1 : -1;
    if (reversals >= MAX_REVERSALS) return false;
    if (direction > 0 && step - lastCut < COOL_DOWN) return false;   // never undo a fresh cut
    double next = scale * factor;
    if (next > MAX_RAISE * (1 + 1e-9) || next < 1 / MAX_CUT * (1 - 1e-9)) return false;
    if (lastDirection != 0 && direction != lastDirection) reversals++;
    lastDirection = direction;
    if (direction < 0) lastCut = step;
    scale = next;
    changes++;
    return true;
  }

  /** A cut made by someone else (a guard's rewind): it scales the lr, and no raise follows it too soon. */
  public void cutElsewhere(double factor, long step) {
    scale *= factor;
    lastCut = step;
  }

  /** The lr's factor from where auto_lr started. */
  public double scale() {
    return scale;
  }

  public int reversals() {
    return reversals;
  }

  public int changes() {
    return changes;
  }

  /** Whether it stopped for good (out of reversals). */
  public boolean stopped() {
    return reversals >= MAX_REVERSALS;
  }
}
