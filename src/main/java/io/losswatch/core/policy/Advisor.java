package io.losswatch.core.policy;

import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;

/**
 * A built-in run's advice, proven before it is shown: when the diagnoser's verdict calls for an lr change, the
 * run forks {@link LookAhead} branches at ×10, ×1, ÷10 and ÷100 for {@link #HORIZON} steps, and the advice names
 * the factor whose branch really ends lower (by over {@link #MARGIN}) and stays finite, with the numbers; if none
 * beats ×1, the advice is to keep the lr, and a too_slow that no raise confirms is shown as converging.
 *
 * <p>{@code auto_lr} applies proven advice only, never moves the lr past ×{@link #MAX_RAISE} or
 * ÷{@link #MAX_CUT} of the spec's, never raises within {@link #HORIZON} steps of a cut it made, and gives up after
 * {@link #MAX_REVERSALS} reversals. The server's run verticle and {@code trace} drive this same class, step for
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
  /**
   * As far as auto_lr raises: as far as it cuts. A raise is proven like a cut, and a tighter bound kept auto_lr from
   * a start 100× too low at best at the best fixed lr, reached late (bench --only=lr-free).
   */
  public static final double MAX_RAISE = 1e4;
  public static final double MAX_CUT = 1e4;
  public static final int MAX_REVERSALS = 3;

  /** What a self-tuning optimizer's advice says instead of an lr factor, by the way the step should go. */
  static final String SELF_SMALLER = "its optimizer sets its own step, so no lr factor applies: make the step smaller"
      + " (Prodigy, D-Adaptation: d_coef or lr under 1, or growth_rate such as 1.02; Schedule-Free: a lower lr or"
      + " warmup_steps)";
  static final String SELF_LARGER = "its optimizer sets its own step, so no lr factor applies: let it grow its step,"
      + " or make it larger (Prodigy: d_coef over 1; D-Adaptation: lr over 1; Schedule-Free: a higher lr)";

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
  // auto_lr's own record
  private double scale = 1;
  private long lastCut = Long.MIN_VALUE / 2;
  private int lastDirection;
  private int reversals;

  /** What a look-ahead found, in words. */
  private record Proof(double factor, double lr, String evidence) {
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
    pending = new LookAhead(t, FACTORS, HORIZON);
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
    String what = d.verdict() == Verdict.TOO_SLOW ? SELF_LARGER : SELF_SMALLER;
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
    int direction = p.factor > 1 ? 1 : -1;
    if (reversals >= MAX_REVERSALS) return;
    if (direction > 0 && step - lastCut < HORIZON) return;   // never undo a fresh cut
    double next = scale * p.factor;
    if (next > MAX_RAISE * (1 + 1e-9) || next < 1 / MAX_CUT * (1 - 1e-9)) return;
    if (lastDirection != 0 && direction != lastDirection) reversals++;
    lastDirection = direction;
    if (direction < 0) lastCut = step;
    scale = next;
    autoLr = p.lr;
  }

  private static Proof conclude(LookAhead la) {
    LookAhead.Outcome keep = null;
    LookAhead.Outcome best = null;
    StringBuilder b = new StringBuilder("over the next " + la.horizon() + " steps from step " + la.fromStep() + ", the loss"
        + " (mean of the last " + Math.max(1, la.horizon() / 10) + ") would be");
    String sep = " ";
    for (LookAhead.Outcome o : la.outcomes()) {
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
}
