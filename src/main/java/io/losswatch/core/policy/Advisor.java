package io.losswatch.core.policy;

import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.FailedLrs;
import io.losswatch.core.diagnosis.Verdict;
import java.util.ArrayList;
import java.util.List;

/**
 * A built-in run's advice, proven before it is shown: when the diagnoser's verdict calls for an lr change, the
 * run forks {@link LookAhead} branches at ×10, ×1, ÷10 and ÷100 for {@link #HORIZON} steps, and the advice names
 * the factor whose branch really ends lower (by over {@link #MARGIN}) and stays finite, with the numbers; if none
 * beats ×1, the advice is to keep the lr, and a too_slow that no raise confirms is shown as converging. A factor that
 * would reach an lr the run failed at ({@link FailedLrs}) is not tried.
 *
 * <p>{@code auto_lr} applies proven advice only, within {@link AutoLr}'s limits: never past ×{@link #MAX_RAISE} or
 * ÷{@link #MAX_CUT} of the spec's lr, no raise within {@link #HORIZON} steps of a cut it made, none after
 * {@link #MAX_REVERSALS} reversals, never to an lr the run failed at. The server's run verticle and {@code trace} drive this same class, step for
 * step, so a spec's trace equals its live run. Pure and single-threaded.
 *
 * <p>An optimizer that sets its own step ({@link io.losswatch.core.RunSpec#setsOwnStep}: Prodigy, D-Adaptation,
 * Schedule-Free) takes no lr factor: its lr multiplies the step it finds, and the lr it reports is that step. So
 * nothing is proven or applied for it, and the advice names what to change instead.
 */
public final class Advisor {
  public static final int HORIZON = 200;
  static final double[] FACTORS = {10, 1, 0.1, 0.01};
  static final double MARGIN = 0.01;
  /**
   * A held verdict's proof is renewed after this many steps, or after as many steps as the verdict has held
   * (whichever is more): a proof costs four horizons, and a verdict that holds for long is renewed ever more
   * seldom, so proofs cost a run a few percent however long it goes.
   */
  static final int RENEW = 5 * HORIZON;
  public static final double MAX_RAISE = AutoLr.MAX_RAISE;
  public static final double MAX_CUT = AutoLr.MAX_CUT;
  public static final int MAX_REVERSALS = AutoLr.MAX_REVERSALS;

  private final Diagnoser diagnoser;
  private final boolean auto;
  private final boolean selfTuning;
  private LookAhead pending;
  private Diagnosis provenFor;   // the diagnoser's diagnosis the last proof was for
  private long provenAt;
  private Proof proof;
  private Diagnosis shownFor;    // shown() is cached for this diagnoser diagnosis
  private Diagnosis shown = Diagnosis.UNKNOWN;
  private double autoLr = Double.NaN;
  private final AutoLr limits = new AutoLr();

  /**
   * What a look-ahead found: the factor to apply ({@code 1}: keep the lr; NaN: no factor stays finite) and its lr, with
   * the numbers in words.
   */
  public record Proof(double factor, double lr, String evidence) {
    /** Whether it proves a change of the lr. */
    public boolean changes() {
      return Double.isFinite(factor) && factor != 1;
    }
  }

  public Advisor(Diagnoser diagnoser, boolean auto) {
    this(diagnoser, auto, false);
  }

  /** {@code selfTuning}: the run's optimizer sets its own step (no lr factor is advice for it, none is applied). */
  public Advisor(Diagnoser diagnoser, boolean auto, boolean selfTuning) {
    this.diagnoser = diagnoser;
    this.auto = auto && !selfTuning;
    this.selfTuning = selfTuning;
  }

  /**
   * After the diagnoser took the step {@code t} just took: true when advice must be proven before the next
   * step (then {@link #prove} until it returns true).
   */
  public boolean needsProof(Trainer t) {
    Diagnosis d = diagnoser.current();
    if (selfTuning || !d.hasAdvice() || d.verdict() == Verdict.NON_FINITE || pending != null) return false;
    if (provenFor != null && provenFor.verdict() == d.verdict() && provenFor.sinceStep() == d.sinceStep()
        && t.stepsTaken() - provenAt < Math.max(RENEW, provenAt - d.sinceStep())) {
      return false;
    }
    pending = new LookAhead(t, allowed(FACTORS, t.nextLr(), diagnoser.failed()), HORIZON);
    provenFor = d;
    provenAt = t.stepsTaken();
    return true;
  }

  /** Takes up to {@code steps} look-ahead steps; true once the proof is done and {@link #shown()} holds it. */
  public boolean prove(long steps) {
    if (pending == null) return true;
    if (!pending.advance(steps)) return false;
    proof = conclude(pending);
    pending = null;
    shownFor = null;
    Diagnosis d = shown();
    if (auto && d.hasAdvice() && actionable(d.verdict())) decideAuto(proof, provenAt);
    return true;
  }

  public boolean proving() {
    return pending != null;
  }

  /** The diagnosis to show: the diagnoser's, with its advice replaced by the proof's while that holds. */
  public Diagnosis shown() {
    Diagnosis d = diagnoser.current();
    if (d == shownFor) return shown;
    shownFor = d;
    if (selfTuning) return shown = withoutLr(d);
    boolean holds = proof != null && provenFor != null && provenFor.verdict() == d.verdict()
        && provenFor.sinceStep() == d.sinceStep();
    if (!d.hasAdvice() || d.verdict() == Verdict.NON_FINITE) {
      shown = d;
    } else if (!holds) {
      // not proven yet (the look-ahead runs before the next step): the verdict, without advice
      shown = new Diagnosis(d.verdict(), null, Double.NaN, d.sinceStep(), d.evidence() + "; checking the advice");
    } else if (Double.isNaN(proof.factor)) {
      shown = new Diagnosis(d.verdict(), "no lr from ×10 to ÷100 keeps the loss finite for " + HORIZON
          + " steps: stop the run and start again much lower", Double.NaN, d.sinceStep(), d.evidence() + "; " + proof.evidence);
    } else if (proof.factor == 1) {
      Verdict v = d.verdict() == Verdict.TOO_SLOW ? Verdict.CONVERGING : d.verdict();
      shown = new Diagnosis(v, "keep the lr", Double.NaN, d.sinceStep(), d.evidence() + "; but no other lr does better: "
          + proof.evidence);
    } else {
      Verdict v = d.verdict() == Verdict.TOO_SLOW && proof.factor < 1 ? Verdict.CONVERGING : d.verdict();
      // the diagnoser's own words (refreshed as the run goes) when the proof says the same
      String advice = d.suggestedLr() == proof.lr ? d.advice() : (proof.factor > 1 ? "raise the lr ×"
          + Diagnoser.fmt(proof.factor) : "cut the lr ÷" + Diagnoser.fmt(1 / proof.factor)) + " to " + Diagnoser.fmt(proof.lr);
      shown = new Diagnosis(v, advice, proof.lr, d.sinceStep(), d.evidence() + "; " + proof.evidence);
    }
    return shown;
  }

  /** A self-tuning optimizer's diagnosis: its verdict and evidence, with what to change instead of an lr. */
  private static Diagnosis withoutLr(Diagnosis d) {
    if (Double.isNaN(d.suggestedLr()) && Double.isNaN(d.retryLr())) return d;
    String what = d.verdict() == Verdict.TOO_SLOW ? Diagnoser.SELF_LARGER : Diagnoser.SELF_SMALLER;
    if (d.hasAdvice()) return new Diagnosis(d.verdict(), what, Double.NaN, d.sinceStep(), d.evidence());
    String ended = d.advice() == null ? what : d.advice().replaceFirst("; to try again, start a new run with lr .*$",
        "; to try again, " + what.substring(what.indexOf(": ") + 2));
    return new Diagnosis(d.verdict(), ended, Double.NaN, d.sinceStep(), d.evidence());
  }

  /** The lr auto_lr sets before the next step, once (NaN: none). */
  public double takeAutoLr() {
    double lr = autoLr;
    autoLr = Double.NaN;
    return lr;
  }

  private static boolean actionable(Verdict v) {
    return v == Verdict.TOO_SLOW || v == Verdict.OSCILLATING || v == Verdict.DIVERGING;
  }

  private void decideAuto(Proof p, long step) {
    if (limits.take(p.factor, p.lr, step, diagnoser.failed())) autoLr = p.lr;
  }

  /** The factors whose lr from {@code lr} the run has not failed at (×1 always). */
  static double[] allowed(double[] factors, double lr, FailedLrs failed) {
    return java.util.Arrays.stream(factors).filter(f -> f == 1 || failed.allows(Diagnoser.nice(lr * f))).toArray();
  }

  private static Proof conclude(LookAhead la) {
    return conclude(la.fromStep(), la.horizon(), la.outcomes());
  }

  /**
   * The advice a look-ahead's branches prove, as a built-in run concludes it and a script's probe outcomes are
   * concluded too: the finite branch that ends lowest, if it beats ×1's by over {@link #MARGIN} (or ×1 broke down);
   * else keep the lr; NaN when every branch broke down. {@code outcomes} must hold ×1.
   */
  public static Proof conclude(long fromStep, int horizon, LookAhead.Outcome[] outcomes) {
    LookAhead.Outcome keep = null;
    LookAhead.Outcome best = null;
    StringBuilder b = new StringBuilder("over the next " + horizon + " steps from step " + fromStep + ", the loss"
        + " (mean of the last " + Math.max(1, horizon / 10) + ") would be");
    String sep = " ";
    for (LookAhead.Outcome o : outcomes) {
      if (o.factor() == 1) keep = o;
      if (o.finite() && (best == null || o.endLoss() < best.endLoss())) best = o;
      b.append(sep).append(o.factor() >= 1 ? "×" + Diagnoser.fmt(o.factor()) : "÷" + Diagnoser.fmt(1 / o.factor())).append(' ')
          .append(o.finite() ? Diagnoser.fmt(o.endLoss()) : "∞ (diverges)");
      sep = ", ";
    }
    if (best == null) return new Proof(Double.NaN, Double.NaN, b.toString());
    boolean better = best.factor() != 1 && (!keep.finite() || best.endLoss() < keep.endLoss() - MARGIN * Math.abs(keep.endLoss()));
    return better ? new Proof(best.factor(), best.lr(), b.toString()) : new Proof(1, keep.lr(), b.toString());
  }

  /**
   * The ladder's next rungs: after ×10 won ({@code won}, with its branch {@code ten}), branches at higher factors
   * ({@code higher}: ×100, ×1000, from the same state, the same steps) climb it while each ends lower than the rung
   * below by over {@link #MARGIN} and stays finite; the proof names the highest rung that did.
   */
  public static Proof climb(Proof won, LookAhead.Outcome ten, LookAhead.Outcome[] higher) {
    List<LookAhead.Outcome> rungs = new ArrayList<>(List.of(higher));
    rungs.sort((x, y) -> Double.compare(x.factor(), y.factor()));
    LookAhead.Outcome top = ten;
    StringBuilder b = new StringBuilder(won.evidence()).append("; higher, from the same state:");
    String sep = " ";
    for (LookAhead.Outcome o : rungs) {
      b.append(sep).append('×').append(Diagnoser.fmt(o.factor())).append(' ')
          .append(o.finite() ? Diagnoser.fmt(o.endLoss()) : "∞ (diverges)");
      sep = ", ";
      if (top == null) continue;
      boolean better = o.finite() && o.endLoss() < top.endLoss() - MARGIN * Math.abs(top.endLoss());
      top = better ? o : null;   // a rung that does no better ends the climb
      if (better) won = new Proof(o.factor(), o.lr(), "");
    }
    return new Proof(won.factor(), won.lr(), b.toString());
  }
}
