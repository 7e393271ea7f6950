package io.losswatch.core.policy;

import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;

/**
 * Which alert a run raises now: one per verdict episode of the diagnoser ({@link Diagnoser#episode()}) for diverging,
 * non_finite and dead, so an lr change or applied advice mid-episode raises none; too_slow once it held for
 * {@link #SLOW_STEPS} steps. Pure; one per run.
 */
final class Alerts {
  /** A too_slow verdict that lasts this many steps becomes an alert. */
  static final int SLOW_STEPS = 200;
  private long episode = -1;
  private long slowSince = -1;

  /** The alert kind to raise for {@code shown} at {@code step} (diverging, non_finite, dead, too_slow), once; else null. */
  String next(Diagnoser d, Diagnosis shown, long step) {
    switch (shown.verdict()) {
      case DIVERGING, NON_FINITE, DEAD -> {
        if (d.episode() == episode) return null;
        episode = d.episode();
        return shown.verdict().label();
      }
      case TOO_SLOW -> {
        if (slowSince == shown.sinceStep() || step - shown.sinceStep() < SLOW_STEPS) return null;
        slowSince = shown.sinceStep();
        return shown.verdict().label();
      }
      default -> {
        return null;
      }
    }
  }
}
