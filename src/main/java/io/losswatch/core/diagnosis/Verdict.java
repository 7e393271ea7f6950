package io.losswatch.core.diagnosis;

import java.util.Locale;

/** What a run's learning rate is doing, by the textbook rules. */
public enum Verdict {
  /** Too few steps to tell yet. */
  UNKNOWN,
  /** The loss falls steadily: keep the lr. */
  CONVERGING,
  /** Levelled off at a minimum (the gradient has all but vanished, or the schedule annealed the lr away). */
  CONVERGED,
  /** Flat or creeping while the gradient is not small: the lr is the bottleneck. Raise it ×10. */
  TOO_SLOW,
  /** The loss bounces, or the updates flip direction step after step: overshooting. Cut it ÷10. */
  OSCILLATING,
  /** The loss grows, or jumped far above its minimum. Cut it ÷10. */
  DIVERGING,
  /** A NaN or an infinity. */
  NON_FINITE,
  /**
   * After a blow-up (or from the start) the loss sits flat at the level of knowing nothing, its gradient collapsed:
   * no lr change revives it. Rewind to before the blow-up, or start again lower.
   */
  DEAD;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
