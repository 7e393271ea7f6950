package io.losswatch.core.policy;

import io.losswatch.core.Guard;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.state.Snapshots;

/**
 * Keeps a run's {@link Guard}: says when a step calls for a rewind, and rolls the trainer back to a kept snapshot
 * at least {@code rewind} steps before it (and before the blow-up, if the loss blew up), with the lr ×{@code lr_factor};
 * for a script's run it says where to (the client holds the snapshots). The run's verticle and {@code trace}
 * drive it the same way, step for step. Pure and single-threaded.
 */
public final class Guardian {
  /** Every how many steps a snapshot is kept, and how many at most: a rewind goes back to one of them. */
  public static final int EVERY = 100;
  public static final int KEPT = 64;
  public static final long KEPT_BYTES = 32L << 20;

  private final Guard guard;
  private final Spikes spikes;
  private int rewinds;

  /** A guard that never fires when the spec has none; {@code done}: the rewinds it made before (a resumed run). */
  public Guardian(Guard guard, int done) {
    this(guard, done, false);
  }

  /** {@code minibatch}: a script's run, whose noisy loss spikes only past every loss of the spike window. */
  public Guardian(Guard guard, int done, boolean minibatch) {
    this.guard = guard;
    this.rewinds = done;
    this.spikes = new Spikes(minibatch);
  }

  public static Snapshots snapshots() {
    return new Snapshots(EVERY, KEPT, KEPT_BYTES);
  }

  /**
   * What the step {@code t} just took calls for: the trigger's name (diverging, non_finite, spike, dead) when the guard
   * watches for it, else null. {@code verdict} is the diagnoser's after the step, {@code before} before it.
   */
  public String trigger(Trainer t, Verdict before, Verdict verdict) {
    double g = t.gradNorm();   // a trainer's gradient norm is always known: NaN is a broken one
    return trigger(t.loss(), Double.isNaN(g) ? Double.POSITIVE_INFINITY : g, before, verdict);
  }

  /**
   * {@link #trigger(Trainer, Verdict, Verdict)} from a step's numbers (a script's run: {@code gradNorm} NaN when not
   * known).
   */
  public String trigger(double loss, double gradNorm, Verdict before, Verdict verdict) {
    if (guard == null) return null;
    if (!Double.isFinite(loss) || Double.isInfinite(gradNorm)) return guard.on("non_finite") ? "non_finite" : null;
    boolean spike = spikes.observe(loss);
    if (guard.on("diverging") && verdict == Verdict.DIVERGING && before != Verdict.DIVERGING) return "diverging";
    if (guard.on("dead") && verdict == Verdict.DEAD && before != Verdict.DEAD) return "dead";
    return spike && guard.on("spike") ? "spike" : null;
  }

  /**
   * The step a rewind triggered at {@code step} goes back to: {@code rewind} steps before, and before the step the run
   * went wrong at ({@code wentWrongAt}: its blow-up, or where a dead run had last learnt; −1: none known,
   * {@link io.losswatch.core.diagnosis.Diagnoser#wentWrongAt()}) — a dead network is revived only from before it.
   * Never before 0.
   */
  public long targetStep(long step, long wentWrongAt) {
    long to = step - guard.rewind();
    if (wentWrongAt >= 0) to = Math.min(to, wentWrongAt - 1);
    return Math.max(0, to);
  }

  /** A script's client went back as a rewind asked: one rewind more, and the spike watch starts afresh. */
  public void rewound() {
    rewinds++;
    spikes.reset();
  }

  /** Whether the guard has rewound as often as it may: the next trigger ends the run. */
  public boolean exhausted() {
    return rewinds >= guard.maxRewinds();
  }

  /** The kept snapshot to go back to from {@code step}: the newest at least {@code rewind} steps before, else the oldest. */
  public Snapshots.Snapshot target(Snapshots kept, long step) {
    return target(kept, step, -1);
  }

  /** The kept snapshot at or before {@link #targetStep(long, long)}, else the oldest. */
  public Snapshots.Snapshot target(Snapshots kept, long step, long wentWrongAt) {
    Snapshots.Snapshot s = kept.atOrBefore(targetStep(step, wentWrongAt));
    return s != null ? s : kept.oldest();
  }

  public int rewinds() {
    return rewinds;
  }

  /**
   * The trainer at {@code to}, with the lr that failed ×{@code lr_factor}; the snapshots after it go. The lr changes
   * made since {@code to} stand, so a second rewind to the same snapshot cuts again instead of retrying the lr the first
   * one did.
   */
  public Trainer rewind(Trainer t, Snapshots kept, Snapshots.Snapshot to) {
    rewinds++;
    spikes.reset();
    kept.dropAfter(to.step());
    Trainer back = new Trainer(t.spec(), to.state());
    double since = t.lrScale() / back.lrScale();
    back.setLr(Diagnoser.nice(back.nextLr() * since * guard.lrFactor()));
    return back;
  }

  public Guard guard() {
    return guard;
  }
}
