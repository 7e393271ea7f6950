package io.losswatch.core.policy;

import io.losswatch.core.Guard;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.FailedLrs;
import io.losswatch.core.diagnosis.Verdict;
import java.util.Arrays;
import java.util.List;

/**
 * What a script's run does between its steps: the decisions a built-in run's {@link Policy} makes — the diagnosis to
 * show, advice proven by look-ahead, auto_lr, the guard — for a run whose steps come from a script and whose client
 * executes them in the user's loop (restores a snapshot, runs the probe branches, sets the lr) and reports back. The
 * rules are the same classes: {@link Diagnoser}, {@link Advisor#conclude}, {@link AutoLr}, {@link Guardian}. Pure and
 * single-threaded; the lifecycle drives it:
 * <pre>
 *   for each appended step:   switch (policy.observe(step, loss, lr, gradNorm)) {
 *     STEP     → nothing to send
 *     PROBE    → {"op":"probe","factors":probeFactors(),"horizon":probeHorizon()}; its ack → probed(outcomes, seconds)
 *     SET_LR   → {"op":"lr","lr":autoLr()};                        its ack → lrChanged(step, from, to, "auto")
 *     REWIND   → {"op":"rewind","to_step":rewindTo(),"lr_factor":rewindFactor()}; its ack → rewound(step, lr)
 *     DIVERGED → the guard fired once more than it may: stop the run, reason "diverged"
 *   }
 *   shown() → the diagnosis to show;   alert(step) → the alert to raise now, once (null: none)
 *   an lr change a person made, or applied advice, once the script acknowledged it → lrChanged(step, from, to, cause)
 * </pre>
 * Advice is labelled unproven unless a probe proved it. A probe is asked only with look-ahead on ({@link Config#horizon}
 * &gt; 0), for an unproven lr advice, within the budget (probe steps at most {@link Config#budget} of the run's steps:
 * the larger of the steps seen and those it expects); when ×10 wins, a follow-up probes ×10, ×100 and ×1000 from the
 * same state (the ladder). auto_lr applies proven advice, or advice safe by the diagnosis' rules: a cut ÷10 when the
 * loss diverges or oscillates at this lr, a raise ×10 once too_slow held {@link #SLOW_HOLD} steps with at least two
 * decades of room ({@link Diagnoser#decadesSupported()}); within {@link AutoLr}'s limits, and never to an lr the run
 * failed at. A dead run gets no lr change: its guard (on "dead") rewinds it to before its blow-up.
 */
public final class ScriptPolicy {
  /** A creep is advised (unproven) and raised by auto_lr only once too_slow held this many steps: minibatch noise. */
  public static final int SLOW_HOLD = 100;
  /** The factors a first probe tries; the ladder's follow-up tries {@link #LADDER}. */
  static final double[] FACTORS = Advisor.FACTORS;
  static final double[] LADDER = {10, 100, 1000};

  public enum Next { STEP, PROBE, SET_LR, REWIND, DIVERGED }

  /**
   * A script's run as its create body describes it: {@code numClasses} (config {@code num_classes}, 0: not a classifier
   * or not said), {@code selfTuning} (an lr-free optimizer: Prodigy, D-Adaptation, schedule-free), {@code autoLr},
   * {@code guard} (null: none), look-ahead {@code horizon} (0: the client cannot probe) and {@code budget} (a fraction of
   * the run's steps), and {@code expectedSteps} (the run's length when its config says, else 0).
   */
  public record Config(int numClasses, boolean selfTuning, boolean autoLr, Guard guard, int horizon, double budget,
      long expectedSteps) {
    public static final double BUDGET = 0.1;

    public Config {
      if (horizon < 0 || !(budget >= 0 && budget <= 1) || expectedSteps < 0 || numClasses < 0) {
        throw new IllegalArgumentException("horizon " + horizon + ", budget " + budget + ", expected steps " + expectedSteps
            + ", num_classes " + numClasses + ": each must be ≥ 0 (budget ≤ 1)");
      }
    }

    /** No guard, no look-ahead, no auto_lr. */
    public static Config plain(int numClasses) {
      return new Config(numClasses, false, false, null, 0, BUDGET, 0);
    }
  }

  /** A probe asked and not yet answered: its factors, from the state at {@code fromStep} at lr {@code lr}. */
  private record Probe(double[] factors, int horizon, long fromStep, double lr, boolean climb, Diagnosis forDiagnosis) {
  }

  private final Config config;
  private final Diagnoser diagnoser;
  private final Guardian guardian;
  private final Alerts alerts = new Alerts();
  private final AutoLr auto = new AutoLr();
  private long steps;
  private long lastStep;
  private double lr = Double.NaN;
  // proofs
  private Probe asked;
  private boolean climbDue;
  private Advisor.Proof proof;
  private boolean inconclusive;   // the last proof kept the lr without refuting the advice
  private Diagnosis provenFor;
  private long provenAt;
  private long probeSteps;
  private double probeSeconds;
  private int probes;
  private boolean refused;   // the client refused a probe: none is asked again
  // commands out
  private double autoLr = Double.NaN;
  private boolean autoProven;
  private boolean awaitingLr;
  private long lastAutoStep = Long.MIN_VALUE / 2;
  private boolean awaitingRewind;
  private long rewindTo;
  private String trigger;
  // shown() is rebuilt when what it depends on changed
  private Diagnosis shownFor;
  private long shownVersion = -1;
  private boolean shownHeld;
  private Diagnosis shown = Diagnosis.UNKNOWN;
  private long version;

  public ScriptPolicy(Config config) {
    this.config = config;
    this.diagnoser = new Diagnoser(Diagnoser.Setup.script(config.numClasses(), config.selfTuning()));
    this.guardian = new Guardian(config.guard(), 0, true);
  }

  /** The run's diagnoser (its verdict, episode, failed lrs, ladder). */
  public Diagnoser diagnoser() {
    return diagnoser;
  }

  /** Takes one step the script sent; says what the run must do before its next. */
  public Next observe(long step, double loss, double lr, double gradNorm) {
    steps++;
    lastStep = step;
    if (FailedLrs.usable(lr)) this.lr = lr;
    Verdict before = diagnoser.current().verdict();
    diagnoser.observe(step, loss, lr, gradNorm, Double.NaN, Double.NaN);
    trigger = null;
    if (awaitingRewind) return Next.STEP;   // steps sent before the client went back: the rewind is under way
    trigger = guardian.trigger(loss, gradNorm, before, diagnoser.current().verdict());
    if (trigger != null) {
      diagnoser.failed().add(step, lr, "fired the guard (" + trigger + ")");
      if (guardian.exhausted()) return Next.DIVERGED;
      rewindTo = guardian.targetStep(step, diagnoser.wentWrongAt());
      awaitingRewind = true;
      asked = null;
      climbDue = false;
      return Next.REWIND;
    }
    if (config.selfTuning() || awaitingLr || asked != null) return Next.STEP;
    if (wantsProbe(step)) return Next.PROBE;
    double to = autoDecision(step);
    if (!Double.isNaN(to)) {
      autoLr = to;
      awaitingLr = true;
      lastAutoStep = step;
      return Next.SET_LR;
    }
    return Next.STEP;
  }

  // ---------------------------------------------------------------- probes

  private boolean wantsProbe(long step) {
    if (config.horizon() <= 0 || refused || !FailedLrs.usable(lr)) return false;
    Diagnosis d = diagnoser.current();
    if (climbDue && holds(d)) {
      climbDue = false;
      double[] factors = Advisor.allowed(LADDER, lr, diagnoser.failed());
      if (factors.length > 1 && affordable(factors.length)) {
        asked = new Probe(factors, config.horizon(), step, lr, true, d);
        version++;
        return true;
      }
      return false;
    }
    climbDue = false;
    if (!d.hasAdvice() || d.verdict() == Verdict.NON_FINITE) return false;
    if (d.verdict() == Verdict.TOO_SLOW && step - d.sinceStep() < SLOW_HOLD) return false;   // as advised: once it held
    int renew = 5 * config.horizon();
    if (holds(d) && step - provenAt < Math.max(renew, provenAt - d.sinceStep())) return false;
    double[] factors = Advisor.allowed(FACTORS, lr, diagnoser.failed());
    if (!affordable(factors.length)) return false;
    asked = new Probe(factors, config.horizon(), step, lr, false, d);
    version++;
    return true;
  }

  /** Whether {@code branches} more branches of the horizon fit the budget. */
  private boolean affordable(int branches) {
    long cost = (long) branches * config.horizon();
    return probeSteps + cost <= config.budget() * Math.max(steps, config.expectedSteps());
  }

  /** The factors the probe just asked for tries, each from the same state (×1: the lr as it is). */
  public double[] probeFactors() {
    return asked == null ? new double[0] : asked.factors().clone();
  }

  /** The steps each branch of the probe just asked for runs. */
  public int probeHorizon() {
    return asked == null ? 0 : asked.horizon();
  }

  /** One branch of a probe, as the client reports it: the mean of its last max(1, H/10) losses, and whether it stayed finite. */
  public record Outcome(double factor, double endLoss, boolean finite) {
  }

  /**
   * The client ran the probe asked for ({@code seconds}: what it cost): the advice is concluded as a built-in run's
   * look-ahead is ({@link Advisor#conclude}); when ×10 wins, the ladder's follow-up is asked next. An answer to no probe
   * is ignored; a first probe without its ×1 branch proves nothing.
   */
  public void probed(List<Outcome> outcomes, double seconds) {
    Probe p = asked;
    if (p == null) return;
    asked = null;
    version++;
    probes++;
    probeSteps += (long) p.factors().length * p.horizon();
    if (seconds > 0 && Double.isFinite(seconds)) probeSeconds += seconds;
    LookAhead.Outcome[] os = new LookAhead.Outcome[p.factors().length];
    for (int i = 0; i < os.length; i++) {
      double f = p.factors()[i];
      Outcome o = outcomes.stream().filter(x -> x.factor() == f).findFirst().orElse(null);
      double end = o != null && o.finite() && Double.isFinite(o.endLoss()) ? o.endLoss() : Double.NaN;
      if (o == null && (f == 1 || p.climb())) return;   // incomplete: it proves nothing
      os[i] = new LookAhead.Outcome(f, f == 1 ? p.lr() : Diagnoser.nice(p.lr() * f), end);
    }
    if (p.climb()) {
      if (proof == null || !holds(p.forDiagnosis())) return;
      LookAhead.Outcome ten = Arrays.stream(os).filter(o -> o.factor() == 10).findFirst().orElse(null);
      LookAhead.Outcome[] higher = Arrays.stream(os).filter(o -> o.factor() > 10).toArray(LookAhead.Outcome[]::new);
      if (ten != null && ten.finite()) proof = Advisor.climb(proof, ten, higher);
      return;
    }
    proof = Advisor.conclude(p.fromStep(), p.horizon(), os);
    inconclusive = proof.factor() == 1 && !refuted(os, p.forDiagnosis().suggestedLr());
    provenFor = p.forDiagnosis();
    provenAt = p.fromStep();
    climbDue = proof.factor() == 10;
  }

  /**
   * Whether a probe that keeps the lr refutes the advice: its ×1 branch ends lower than the advised one's by over the
   * margin, or the advised one broke down. Over a short horizon a minibatch loss at a tiny lr cannot tell ×10 from ×1:
   * such a probe is inconclusive, and the rules' advice stands, shown as unproven.
   */
  private static boolean refuted(LookAhead.Outcome[] os, double advised) {
    LookAhead.Outcome keep = null;
    LookAhead.Outcome other = null;
    for (LookAhead.Outcome o : os) {
      if (o.factor() == 1) keep = o;
      else if (Math.abs(o.lr() / advised - 1) < 1e-6) other = o;
    }
    if (keep == null || other == null || !other.finite()) return true;
    return other.endLoss() > keep.endLoss() + Advisor.MARGIN * Math.abs(keep.endLoss());
  }

  /**
   * The client ran none of the probe asked (over its own budget, no look-ahead given to it, no batches): it costs
   * nothing, proves nothing, and no probe is asked again — the advice stays labelled unproven.
   */
  public void probeRefused() {
    if (asked == null) return;
    asked = null;
    refused = true;
    version++;
  }

  /** Whether the last proof is for {@code d}'s verdict and stretch (no lr change since: that starts a new one). */
  private boolean holds(Diagnosis d) {
    return proof != null && provenFor != null && provenFor.verdict() == d.verdict() && provenFor.sinceStep() == d.sinceStep();
  }

  /** Probes run so far, the steps and seconds they cost (for the run's summary). */
  public int probes() {
    return probes;
  }

  public long probeSteps() {
    return probeSteps;
  }

  public double probeSeconds() {
    return probeSeconds;
  }

  // ---------------------------------------------------------------- auto_lr

  private double autoDecision(long step) {
    if (!config.autoLr() || auto.stopped() || step - lastAutoStep < Diagnoser.WINDOW || !FailedLrs.usable(lr)) return Double.NaN;
    Diagnosis s = shown();
    Verdict v = s.verdict();
    if (!s.hasAdvice() || !(v == Verdict.TOO_SLOW || v == Verdict.OSCILLATING || v == Verdict.DIVERGING)) return Double.NaN;
    Diagnosis d = diagnoser.current();
    boolean proven = holds(d) && proof.changes();
    if (!proven && !safeByRules(d, step)) return Double.NaN;
    double to = s.suggestedLr();
    if (!auto.take(to / lr, to, step, diagnoser.failed())) return Double.NaN;
    autoProven = proven;
    return to;
  }

  /**
   * Advice safe by the diagnosis' rules alone: a cut when the loss diverges or bounces at this lr; a ×10 raise once
   * too_slow held {@link #SLOW_HOLD} steps with two decades of room (one to spare).
   */
  private boolean safeByRules(Diagnosis d, long step) {
    if (!d.hasAdvice()) return false;
    if (d.verdict() == Verdict.DIVERGING || d.verdict() == Verdict.OSCILLATING) return d.suggestedLr() < lr;
    return d.verdict() == Verdict.TOO_SLOW && step - d.sinceStep() >= SLOW_HOLD && diagnoser.decadesSupported() >= 2
        && Math.abs(d.suggestedLr() / lr / 10 - 1) < 1e-6;
  }

  /** The lr auto_lr asked for (with {@link Next#SET_LR}). */
  public double autoLr() {
    return autoLr;
  }

  /** auto_lr's record: its changes, reversals, and the factor it moved the lr by. */
  public AutoLr auto() {
    return auto;
  }

  /**
   * The script acknowledged an lr change at {@code step} ({@code cause}: auto, advice, set, …): the diagnosis looks
   * afresh (the episode goes on), and a raise is a rung of the ladder, proven when a probe proved it.
   */
  public void lrChanged(long step, double from, double to, String cause) {
    boolean proven = proof != null && proof.changes() && Math.abs(to / proof.lr() - 1) < 1e-6
        && ("auto".equals(cause) ? autoProven : holds(diagnoser.current()));
    diagnoser.lrChanged(step, from, to, proven);
    awaitingLr = false;   // any lr change the script made supersedes one auto_lr asked for and it never heard
    if (FailedLrs.usable(to)) lr = to;
    version++;
  }

  /** What auto_lr may do on this run, in words (for its summary). */
  public String autoLrScope() {
    if (!config.autoLr()) return "auto_lr is off";
    if (config.selfTuning()) return "auto_lr does nothing: the optimizer sets its own step";
    return "auto_lr applies " + (config.horizon() > 0 ? "advice proven by look-ahead, and " : "")
        + "advice safe by the diagnosis' rules: a cut ÷10 when the loss diverges or oscillates at its lr, a raise ×10"
        + " once too_slow held " + SLOW_HOLD + " steps with two decades of room; at most ×" + Diagnoser.fmt(AutoLr.MAX_RAISE)
        + " and ÷" + Diagnoser.fmt(AutoLr.MAX_CUT) + " of its first lr, no raise within " + AutoLr.COOL_DOWN + " steps of a"
        + " cut, none after " + AutoLr.MAX_REVERSALS + " reversals, never to an lr the run failed at, nothing for a dead"
        + " run (its guard rewinds it)";
  }

  // ---------------------------------------------------------------- the guard

  /** What fired the guard at the last step (diverging, non_finite, spike, dead), or null. */
  public String trigger() {
    return trigger;
  }

  /** The step the rewind just asked for goes back to (the client restores its newest snapshot at or before it). */
  public long rewindTo() {
    return rewindTo;
  }

  /** The factor a rewind scales the lr by. */
  public double rewindFactor() {
    return config.guard() == null ? 1 : config.guard().lrFactor();
  }

  /** Rewinds made so far. */
  public int rewinds() {
    return guardian.rewinds();
  }

  /**
   * The client went back to {@code step} (its newest snapshot at or before the step asked) with the lr now {@code lr}:
   * the diagnosis starts a new cycle (forgetting the undone steps, not the lrs the run failed at), and auto_lr counts it
   * as a cut. Called once per rewind the client made (its caller knows a new cycle from a repeated acknowledgement),
   * also for one asked before a restart.
   */
  public void rewound(long step, double lr) {
    awaitingRewind = false;
    guardian.rewound();
    diagnoser.rewound();
    auto.cutElsewhere(rewindFactor(), step);
    asked = null;
    climbDue = false;
    proof = null;
    awaitingLr = false;
    if (FailedLrs.usable(lr)) this.lr = lr;
    version++;
  }

  /** The client could not go back as asked (no model watched, no snapshot that old): no rewind, the guard watches on. */
  public void notRewound() {
    awaitingRewind = false;
    version++;
  }

  /** Whether a rewind was asked and not yet acknowledged. */
  public boolean rewinding() {
    return awaitingRewind;
  }

  // ---------------------------------------------------------------- a run read back after a restart

  /**
   * One step of the run as its history holds it, replayed after a restart: the diagnosis and the memory of failed lrs
   * take it, nothing is decided (its commands were decided then).
   */
  public void replay(long step, double loss, double lr, double gradNorm) {
    steps++;
    lastStep = step;
    if (FailedLrs.usable(lr)) this.lr = lr;
    diagnoser.observe(step, loss, lr, gradNorm, Double.NaN, Double.NaN);
    version++;
  }

  /** An lr change the run's summary holds, replayed: auto_lr counts its own again (its limits outlive a restart). */
  public void replayLrChange(long step, double from, double to, String cause) {
    if ("auto".equals(cause) && FailedLrs.usable(from) && FailedLrs.usable(to)) {
      auto.take(to / from, to, step, null);
      lastAutoStep = step;
    }
    lrChanged(step, from, to, cause);
  }

  /**
   * A rewind the run's summary holds, replayed after the steps it undid ({@code abandoned}, replayed before it): the lr
   * that fired the guard ({@code lrBefore}, at step {@code at}) stays failed, the guard counts it.
   */
  public void replayRewind(long at, long to, double lrBefore, double lrAfter, String why) {
    diagnoser.failed().add(at, lrBefore, "fired the guard (" + why + ")");
    guardian.rewound();
    diagnoser.rewound();
    auto.cutElsewhere(rewindFactor(), to);
    if (FailedLrs.usable(lrAfter)) this.lr = lrAfter;
    version++;
  }

  // ---------------------------------------------------------------- what to show

  /** The run ended at {@code step} ({@code how}: its end state): the verdict stays, without advice. */
  public void end(long step, String how) {
    diagnoser.end(step, how);
  }

  /** Steps in flight when the run ended were kept, up to {@code step}. */
  public void endedAt(long step) {
    diagnoser.endedAt(step);
  }

  /** The alert the run raises now (diverging, non_finite, dead once per episode; too_slow once it held 200 steps), or null. */
  public String alert(long step) {
    return alerts.next(diagnoser, shown(), step);
  }

  /**
   * The diagnosis to show: the diagnoser's, its advice replaced by a probe's proof while that holds, else labelled
   * unproven; a creep is advised only once it held {@link #SLOW_HOLD} steps.
   */
  public Diagnosis shown() {
    Diagnosis d = diagnoser.current();
    boolean held = d.verdict() == Verdict.TOO_SLOW && lastStep - d.sinceStep() >= SLOW_HOLD;
    if (d == shownFor && version == shownVersion && held == shownHeld) return shown;
    shownFor = d;
    shownVersion = version;
    shownHeld = held;
    shown = build(d, held);
    return shown;
  }

  private Diagnosis build(Diagnosis d, boolean held) {
    if (!d.hasAdvice() || d.verdict() == Verdict.NON_FINITE && !holds(d) || diagnoser.ended()) return d;
    if (holds(d) && inconclusive) {
      return d.with(d.advice(), d.suggestedLr(), d.evidence() + " (advice unproven: a look-ahead on your model could not"
          + " tell the lrs apart: " + proof.evidence() + ")");
    }
    if (holds(d)) {
      Advisor.Proof p = proof;
      String evidence = d.evidence() + "; proven on your model by look-ahead: " + p.evidence();
      if (Double.isNaN(p.factor())) {
        return d.with("no lr from ×10 to ÷100 keeps the loss finite for " + provenHorizon() + " steps: stop the run and"
            + " start again much lower", Double.NaN, evidence);
      }
      if (p.factor() == 1) {
        Verdict v = d.verdict() == Verdict.TOO_SLOW ? Verdict.CONVERGING : d.verdict();
        return new Diagnosis(v, "keep the lr", Double.NaN, d.sinceStep(), d.evidence() + "; but no other lr does better"
            + " on your model: " + p.evidence(), d.retryLr());
      }
      Verdict v = d.verdict() == Verdict.TOO_SLOW && p.factor() < 1 ? Verdict.CONVERGING : d.verdict();
      String advice = (p.factor() > 1 ? "raise the lr ×" + Diagnoser.fmt(p.factor()) : "cut the lr ÷"
          + Diagnoser.fmt(1 / p.factor())) + " to " + Diagnoser.fmt(p.lr()) + " (proven by look-ahead)";
      return new Diagnosis(v, advice, p.lr(), d.sinceStep(), evidence, d.retryLr());
    }
    if (d.verdict() == Verdict.TOO_SLOW && !held) {
      return d.with("keep the lr for now: too slow for " + (lastStep - d.sinceStep()) + " steps; a raise is advised once"
          + " it held " + SLOW_HOLD + " (a minibatch loss is noisy)", Double.NaN, d.evidence());
    }
    String why = asked != null ? "advice unproven yet: being checked by look-ahead on your model"
        : config.horizon() <= 0 ? "advice unproven: a probe would check it on your model (lookahead)"
        : refused ? "advice unproven: the script refused the look-ahead probes"
        : affordable(FACTORS.length) ? "advice unproven yet: a look-ahead on your model checks it next"
        : "advice unproven: the look-ahead budget (" + Diagnoser.fmt(100 * config.budget()) + "% of the run's steps) is spent";
    return d.with(d.advice(), d.suggestedLr(), d.evidence() + " (" + why + ")");
  }

  private int provenHorizon() {
    return config.horizon();
  }
}
