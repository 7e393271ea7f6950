package io.losswatch.core.diagnosis;

import java.util.ArrayList;
import java.util.List;

/**
 * A run's memory of the learning rates it failed at: where it diverged, went non-finite or died (and where a guard
 * fired). No advice and no retry lr ever goes back to the lowest of them or above it: a raise stops at a third of
 * it (half a decade below); a cut goes ÷10, or to a decade under it when ÷10 would not clear it by half a decade.
 * Kept across lr changes and rewinds (a rewind undoes steps, not what they taught), forgotten only when a run starts
 * over. Pure; one per run.
 */
public final class FailedLrs {
  /** A raise may come no closer to the lowest failed lr than this fraction of it. */
  static final double MARGIN = 1.0 / 3;
  /** The raises tried, largest first: ×10 when it stays clear of the failed lrs, else the largest that does. */
  private static final double[] RAISES = {10, 5, 3, 2};

  /** One failure: at {@code step}, the lr {@code lr} {@code what} ("diverged", "went non-finite", "died", …). */
  public record Failure(long step, double lr, String what) {
    @Override
    public String toString() {
      return "lr " + Diagnoser.fmt(lr) + " " + what + " at step " + step;
    }
  }

  private final List<Failure> failures = new ArrayList<>();
  private Failure lowest;

  /** Remembers that the run failed at {@code lr} (ignored unless a usable lr: finite and positive). */
  public void add(long step, double lr, String what) {
    if (!usable(lr)) return;
    for (Failure f : failures) if (f.lr() == lr && f.what().equals(what)) return;   // known already
    Failure f = new Failure(step, lr, what);
    failures.add(f);
    if (lowest == null || lr < lowest.lr()) lowest = f;
  }

  /** The lowest lr the run failed at (+∞: none). */
  public double ceiling() {
    return lowest == null ? Double.POSITIVE_INFINITY : lowest.lr();
  }

  /** The failure that set the ceiling, or null. */
  public Failure lowest() {
    return lowest;
  }

  public List<Failure> all() {
    return List.copyOf(failures);
  }

  public boolean isEmpty() {
    return failures.isEmpty();
  }

  /** Whether {@code lr} may be advised: usable, and under the lowest failed lr. */
  public boolean allows(double lr) {
    return usable(lr) && lr < ceiling() * (1 - 1e-9);
  }

  /** The factor of a raise from {@code lr}: ×10 or the largest of ×5, ×3, ×2 at most a third of the ceiling (NaN: none). */
  public double raiseFactor(double lr) {
    if (!usable(lr)) return Double.NaN;
    for (double f : RAISES) if (lr * f <= MARGIN * ceiling() * (1 + 1e-9)) return f;
    return Double.NaN;
  }

  /**
   * The lr a cut from {@code lr} goes to: ÷10, unless that stays within half a decade of the lowest failed lr (the lr
   * rose past it since, as under a warmup); then a decade under that (NaN for an unusable lr). Unrounded
   * ({@link Diagnoser#nice} writes it as a person would).
   */
  public double cut(double lr) {
    if (!usable(lr)) return Double.NaN;
    return lr / 10 <= MARGIN * ceiling() * (1 + 1e-9) ? lr / 10 : ceiling() / 10;
  }

  void clear() {
    failures.clear();
    lowest = null;
  }

  /** A learning rate advice can start from: finite and positive. */
  public static boolean usable(double lr) {
    return lr > 0 && lr < Double.POSITIVE_INFINITY;
  }
}
