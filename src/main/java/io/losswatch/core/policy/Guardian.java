package io.losswatch.core.policy;

import io.losswatch.core.Guard;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.state.Snapshots;

/**
 * Keeps a run's {@link Guard}: says when a step calls for a rewind, and rolls the trainer back to a kept snapshot
 * at least {@code rewind} steps before it, with the lr ×{@code lr_factor}. The run's verticle and {@code trace}
 * drive it the same way, step for step. Pure and single-threaded.
 */
public final class Guardian {
  /** Every how many steps a snapshot is kept, and how many at most: a rewind goes back to one of them. */
  public static final int EVERY = 100;
  public static final int KEPT = 64;
  public static final long KEPT_BYTES = 32L << 20;

  private final Guard guard;
  private final Spikes spikes = new Spikes();
  private int rewinds;

  /** A guard that never fires when the spec has none; {@code done}: the rewinds it made before (a resumed run). */
  public Guardian(Guard guard, int done) {
    this.guard = guard;
    this.rewinds = done;
  }

  public static Snapshots snapshots() {
    return new Snapshots(EVERY, KEPT, KEPT_BYTES);
  }

  /**
   * What the step {@code t} just took calls for: the trigger's name (diverging, non_finite, spike) when the guard
   * watches for it, else null. {@code verdict} is the diagnoser's after the step, {@code before} before it.
   */
  public String trigger(Trainer t, Verdict before, Verdict verdict) {
    if (guard == null) return null;
    if (!Double.isFinite(t.loss()) || !Double.isFinite(t.gradNorm())) return guard.on("non_finite") ? "non_finite" : null;
    boolean spike = spikes.observe(t.loss());
    if (guard.on("diverging") && verdict == Verdict.DIVERGING && before != Verdict.DIVERGING) return "diverging";
    return spike && guard.on("spike") ? "spike" : null;
  }

  /** Whether the guard has rewound as often as it may: the next trigger ends the run. */
  public boolean exhausted() {
    return rewinds >= guard.maxRewinds();
  }

  /** The kept snapshot to go back to from {@code step}: the newest at least {@code rewind} steps before, else the oldest. */
  public Snapshots.Snapshot target(Snapshots kept, long step) {
    Snapshots.Snapshot s = kept.atOrBefore(step - guard.rewind());
    return s != null ? s : kept.oldest();
  }

  /** The trainer at {@code to}, with the lr ×{@code lr_factor}; the snapshots after it go. */
  public Trainer rewind(Trainer t, Snapshots kept, Snapshots.Snapshot to) {
    rewinds++;
    spikes.reset();
    kept.dropAfter(to.step());
    Trainer back = new Trainer(t.spec(), to.state());
    back.setLr(Diagnoser.nice(back.nextLr() * guard.lrFactor()));
    return back;
  }

  public Guard guard() {
    return guard;
  }
}
