package io.losswatch.run;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.policy.Policy;
import io.losswatch.core.state.Snapshots;
import io.losswatch.event.StepBatch;
import io.losswatch.history.RunHistory;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The one place the server calls core's diagnosis and policy for a run: what its steps say (the diagnoser), what of
 * it to show, and what to do about it. A built-in run's decisions are core's {@link Policy} (advice proven by
 * look-ahead, auto_lr following it, the guard, and the snapshots they need), as {@code trace} makes them; a script's
 * run has the diagnoser's advice, marked unproven, and auto_lr following it at most once a window. Single-threaded:
 * the run's event loop.
 */
final class RunPolicy {
  /** A too_slow verdict that lasts this many steps becomes an alert (and, for a script's run, advice). */
  static final int SLOW_STEPS = 200;
  /** A run read back from disk replays its first steps (its scale) and its last ones into its diagnoser. */
  static final int REPLAY_HEAD = 100;
  static final int REPLAY_TAIL = 400;
  private static final Set<Verdict> ACTIONABLE = EnumSet.of(Verdict.TOO_SLOW, Verdict.OSCILLATING, Verdict.DIVERGING);

  /** What a built-in run does after a step. */
  enum Next { STEP, PROVE, REWIND, DIVERGED, FINISHED }

  private final RunSpec spec;
  private final Diagnoser diagnoser = new Diagnoser();
  /** A built-in run's decisions, from its first trainer on; null for a script's run (and before). */
  private Policy builtIn;
  /** What the steps since the diagnosis was last told did to it. */
  private Diagnoser.Change news = Diagnoser.Change.NONE;
  private long lastStep;
  private long lastAutoStep = Long.MIN_VALUE / 2;
  /** The diagnosis before the run ended, and how and where it ended (a script's steps may still come after). */
  private Diagnosis beforeEnd;
  private String endedAs;
  private long endedAt;

  RunPolicy(RunSpec spec) {
    this.spec = spec;
  }

  /**
   * A run read back from disk (a restart, or a node that left): its diagnosis rebuilt from the first and last steps
   * of its history. Reads the disk: cheap (a few hundred records, mapped), yet best off the event loop.
   */
  static RunPolicy replayed(RunSpec spec, RunHistory h) {
    RunPolicy p = new RunPolicy(spec);
    long last = Long.MIN_VALUE;
    for (StepBatch b : List.of(h.head(Long.MIN_VALUE, REPLAY_HEAD), h.tail(REPLAY_TAIL))) {
      for (int i = 0; i < b.size(); i++) {
        if (b.step()[i] <= last) continue;   // a short run: the tail overlaps the head
        last = b.step()[i];
        p.observe(last, b.loss()[i], b.lr()[i], b.gradNorm()[i], Double.NaN, Double.NaN);
      }
    }
    p.news = Diagnoser.Change.NONE;
    return p;
  }

  // ---- a built-in run's

  /** A built-in run's trainer {@code t} starts (its first, one restored, or a new cycle's), rewound {@code rewinds} times. */
  void begin(Trainer t, int rewinds) {
    builtIn = new Policy(spec, diagnoser, t, rewinds);
  }

  /** The step {@code t} just took: what the run does next. */
  Next afterStep(Trainer t) {
    Verdict before = diagnoser.current().verdict();
    observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
    return switch (builtIn.afterStep(t, before)) {
      case STEP -> Next.STEP;
      case PROVE -> Next.PROVE;
      case REWIND -> Next.REWIND;
      case DIVERGED -> Next.DIVERGED;
      case FINISHED -> Next.FINISHED;
    };
  }

  boolean proving() {
    return builtIn != null && builtIn.proving();
  }

  /** Takes up to {@code steps} look-ahead steps; true once the advice is proven. */
  boolean prove(long steps) {
    return builtIn.prove(steps);
  }

  /** The lr auto_lr sets before the next step, once its advice is proven (NaN: none). */
  double takeAutoLr() {
    return builtIn.takeAutoLr();
  }

  /** What fired the guard at the last step (diverging, non_finite, spike), or null. */
  String trigger() {
    return builtIn.trigger();
  }

  int maxRewinds() {
    return builtIn.maxRewinds();
  }

  /** The step a rewind from {@code step} goes back to: the newest kept state at least the guard's rewind before. */
  long rewindTo(long step) {
    return builtIn.rewindTarget(step).step();
  }

  /** The guard's lr factor for a rewind (NaN without a guard). */
  double rewindFactor() {
    return spec.guard() == null ? Double.NaN : spec.guard().lrFactor();
  }

  /** The trainer back at {@code to}, its lr cut by the guard's factor. */
  Trainer rewind(Trainer t, Snapshots.Snapshot to) {
    return builtIn.rewind(t, to);
  }

  /** The states a built-in run keeps in memory (a branch forks from the nearest), null before its first trainer. */
  Snapshots snapshots() {
    return builtIn == null ? null : builtIn.snapshots();
  }

  // ---- a script's run's

  /** One step a script sent: the lr auto_lr asks for now (NaN: none). */
  double afterScriptStep(long step, double loss, double lr, double gradNorm) {
    observe(step, loss, lr, gradNorm, Double.NaN, Double.NaN);
    Diagnosis d = shown();
    if (spec.autoLr() && d.hasAdvice() && ACTIONABLE.contains(d.verdict()) && step - lastAutoStep >= Diagnoser.WINDOW) {
      lastAutoStep = step;
      return d.suggestedLr();
    }
    return Double.NaN;
  }

  // ---- either

  private void observe(long step, double loss, double lr, double gradNorm, double cosine, double efficiency) {
    lastStep = step;
    Diagnoser.Change c = diagnoser.observe(step, loss, lr, gradNorm, cosine, efficiency);
    if (c.compareTo(news) > 0) news = c;
  }

  /**
   * The diagnosis to show. A built-in run's advice is proven first; a script's run can't be forked, so its advice
   * is the diagnoser's, marked unproven, and too_slow (the advice most easily wrong on a noisy loss) is advised only
   * once it has held for {@link #SLOW_STEPS}. An ended run's names the step it shows.
   */
  Diagnosis shown() {
    if (endedAs != null && lastStep > endedAt) return beforeEnd.ended(lastStep, endedAs);
    if (builtIn != null) return builtIn.shown();
    Diagnosis d = diagnoser.current();
    if (!d.hasAdvice() || !spec.external()) return d;
    if (d.verdict() == Verdict.TOO_SLOW && lastStep - d.sinceStep() < SLOW_STEPS) {
      return new Diagnosis(Verdict.CONVERGING, "keep the lr", Double.NaN, d.sinceStep(), d.evidence()
          + "; too slow for under " + SLOW_STEPS + " steps, not yet advised");
    }
    return new Diagnosis(d.verdict(), d.advice(), d.suggestedLr(), d.sinceStep(), d.evidence()
        + " (advice unproven: a run trained elsewhere can't be forked to check it)");
  }

  /** What the steps since {@link #told()} did to the diagnosis: changed (news), refreshed (its numbers), or none. */
  Diagnoser.Change news() {
    return news;
  }

  /** The diagnosis as it stands has been told. */
  void told() {
    news = Diagnoser.Change.NONE;
  }

  /** The lr changed: the diagnosis starts afresh, and that is news. */
  void lrChanged() {
    diagnoser.reset();
    news = Diagnoser.Change.CHANGED;
  }

  /** A new cycle of a run that ended (a demo run starting over): everything forgotten. */
  void startOver() {
    diagnoser.startOver();
    endedAs = null;
    lastStep = 0;
  }

  /** The run ended at {@code step} ({@code how}: its end state): no advice for a run that cannot change. */
  void end(long step, String how) {
    if (endedAs != null || diagnoser.ended()) return;
    beforeEnd = diagnoser.current();
    endedAt = Math.max(step, lastStep);
    lastStep = endedAt;
    diagnoser.end(endedAt, how);
    endedAs = how;
  }

  /** {@code v} as the diagnosis writes numbers, for texts about the lr. */
  static String fmt(double v) {
    return Diagnoser.fmt(v);
  }

  /** {@code v} rounded to a number a person would pick (1, 2 or 5 times a power of ten): a branch's lr. */
  static double nice(double v) {
    return Diagnoser.nice(v);
  }
}
