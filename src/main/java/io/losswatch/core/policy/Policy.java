package io.losswatch.core.policy;

import io.losswatch.core.LrRange;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.state.Snapshots;

/**
 * What a built-in run does between its steps: its advice proven by look-ahead ({@link Advisor}, and
 * {@code auto_lr} following it), its guard ({@link Guardian}), and the snapshots both need. The server's run
 * verticle and {@code trace} drive it the same way, so a spec's trace equals its live run:
 * <pre>
 *   t.step();  Verdict before = diagnoser.current().verdict();  diagnoser.observe(…);
 *   switch (policy.afterStep(t, before)) {
 *     STEP      → the next step
 *     PROVE     → prove(…) until true; then takeAutoLr() (NaN: none), set before the next step
 *     REWIND    → t = rewind(t, rewindTarget(step)): back to a kept state, lr cut; the diagnoser starts afresh
 *     DIVERGED, FINISHED → the run ends
 *   }
 * </pre>
 * Pure and single-threaded; the diagnoser is the caller's (it also hears of lr changes made by people).
 */
public final class Policy {
  public enum Next { STEP, PROVE, REWIND, DIVERGED, FINISHED }

  private final RunSpec spec;
  private final Diagnoser diagnoser;
  private final Advisor advisor;
  private final Guardian guardian;
  private final Snapshots snapshots = Guardian.snapshots();
  private final LrRange.Watch divergence;
  private final Alerts alerts = new Alerts();
  private String trigger;

  /** For a run at {@code t}'s state (its first, or one restored), its guard having rewound {@code rewinds} times. */
  public Policy(RunSpec spec, Diagnoser diagnoser, Trainer t, int rewinds) {
    this.spec = spec;
    this.diagnoser = diagnoser;
    this.advisor = new Advisor(diagnoser, spec.autoLr(), spec.setsOwnStep());
    this.guardian = new Guardian(spec.guard(), rewinds);
    this.divergence = spec.stopOnDivergence() == null ? null : spec.stopOnDivergence().watch();
    snapshots.add(t.stepsTaken(), t.state());
  }

  /** After the diagnoser took the step {@code t} just took ({@code before}: its verdict before that step). */
  public Next afterStep(Trainer t, Verdict before) {
    trigger = guardian.trigger(t, before, diagnoser.current().verdict());
    if (trigger != null) {
      diagnoser.failed().add(t.stepsTaken(), t.lr(), "fired the guard (" + trigger + ")");
      return guardian.exhausted() ? Next.DIVERGED : Next.REWIND;
    }
    if (!Double.isFinite(t.loss()) || !Double.isFinite(t.gradNorm())) return Next.DIVERGED;
    // a range test ends once its smoothed loss has run away: it has found the top of the useful lrs
    if (t.stepsTaken() >= spec.steps() || divergence != null && divergence.diverged(t.loss())) return Next.FINISHED;
    if (snapshots.due(t.stepsTaken())) snapshots.add(t.stepsTaken(), t.state());
    return divergence == null && advisor.needsProof(t) ? Next.PROVE : Next.STEP;   // a range test takes no advice
  }

  /** What fired the guard at the last step (diverging, non_finite, spike, dead), or null. */
  public String trigger() {
    return trigger;
  }

  /** Takes up to {@code steps} look-ahead steps; true once the advice is proven. */
  public boolean prove(long steps) {
    return advisor.prove(steps);
  }

  public boolean proving() {
    return advisor.proving();
  }

  /** The lr auto_lr sets before the next step, once (NaN: none). */
  public double takeAutoLr() {
    return advisor.takeAutoLr();
  }

  /** The diagnosis to show, its advice proven. */
  public Diagnosis shown() {
    return advisor.shown();
  }

  /** The kept state a rewind from {@code step} goes back to (before the run went wrong, if known), or the oldest. */
  public Snapshots.Snapshot rewindTarget(long step) {
    return guardian.target(snapshots, step, diagnoser.wentWrongAt());
  }

  /**
   * The trainer back at {@code to}, its lr ×{@code lr_factor}; the states kept after it go, and the diagnoser forgets
   * what the undone steps showed (but not the lrs the run failed at).
   */
  public Trainer rewind(Trainer t, Snapshots.Snapshot to) {
    Trainer back = guardian.rewind(t, snapshots, to);
    diagnoser.rewound();
    return back;
  }

  /**
   * The alert the run raises now, or null: diverging, non_finite and dead once per verdict episode (an lr change or
   * applied advice raises no second one), too_slow once it held 200 steps; none while advice is being proven (it is
   * told once proven) and none for a range test.
   */
  public String alert(long step) {
    if (advisor.proving() || divergence != null) return null;
    return alerts.next(diagnoser, shown(), step);
  }

  public int maxRewinds() {
    return spec.guard() == null ? 0 : spec.guard().maxRewinds();
  }

  /** The states kept in memory, for branches. */
  public Snapshots snapshots() {
    return snapshots;
  }
}
