package io.losswatch.run;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.policy.Policy;
import io.losswatch.core.policy.ScriptPolicy;
import io.losswatch.core.state.Snapshots;
import io.losswatch.event.Alert;
import io.losswatch.event.Append;
import io.losswatch.event.LrChange;
import io.losswatch.event.Rewind;
import io.losswatch.event.RunSummary;
import io.losswatch.event.ScriptReport;
import io.losswatch.event.StepBatch;
import io.losswatch.history.RunHistory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one place the server calls core's diagnosis and policy for a run: what its steps say, what of it to show, which
 * alert it raises, and what to do about it. A built-in run's decisions are core's {@link Policy} (advice proven by
 * look-ahead, auto_lr following it, the guard, and the snapshots they need), as {@code trace} makes them; a script's
 * run's are core's {@link ScriptPolicy} (the same rules, carried out by the script: probes, rewinds, lr changes). A
 * script's range test gets neither advice nor alerts. Single-threaded: the run's event loop.
 */
final class RunPolicy {
  /** A run read back from disk replays its first steps (its scale) and its last ones into its diagnosis. */
  static final int REPLAY_HEAD = 100;
  static final int REPLAY_TAIL = 400;

  /** What a built-in run does after a step. */
  enum Next { STEP, PROVE, REWIND, DIVERGED, FINISHED }

  private final RunSpec spec;
  /** A built-in run's diagnoser (a script's run's is its policy's). */
  private final Diagnoser diagnoser;
  /** A script's run's decisions; null for a built-in run. */
  private final ScriptPolicy script;
  /** A built-in run's decisions, from its first trainer on; null for a script's run (and before). */
  private Policy builtIn;
  /** What the steps since the diagnosis was last told did to it. */
  private Diagnoser.Change news = Diagnoser.Change.NONE;
  /** A script's run's diagnosis as last told (news is a change from it). */
  private Diagnosis told = Diagnosis.UNKNOWN;
  private long lastStep;

  RunPolicy(RunSpec spec) {
    this.spec = spec;
    if (spec.external()) {
      script = new ScriptPolicy(config(spec));
      diagnoser = script.diagnoser();
    } else {
      script = null;
      // an optimizer that sets its own step (Prodigy, D-Adaptation) gets no lr factor as advice
      diagnoser = new Diagnoser(new Diagnoser.Setup(0, false, spec.setsOwnStep()));
    }
  }

  /** A script's run's policy as its spec describes it; a range test's takes no decisions. */
  static ScriptPolicy.Config config(RunSpec spec) {
    RunSpec.Lookahead l = spec.rangeTest() ? null : spec.lookahead();
    return new ScriptPolicy.Config(spec.numClasses(), spec.setsOwnStep(), spec.autoLr() && !spec.rangeTest(),
        spec.rangeTest() ? null : spec.guard(), l == null ? 0 : l.horizon(), l == null ? ScriptPolicy.Config.BUDGET : l.budget(),
        spec.plannedSteps());
  }

  /**
   * A run read back from disk (a restart, a node that left, or a script's run resumed after it ended): its diagnosis
   * rebuilt from the first and last steps of its history; a script's run's also from what its rewinds undid and from its
   * lr changes, so the lrs it failed at, its guard's count and auto_lr's limits outlive the restart. Reads the disk:
   * cheap (a few hundred records and the rewound stretches, mapped), yet best off the event loop.
   */
  static RunPolicy replayed(RunSpec spec, RunHistory h, RunSummary s) {
    RunPolicy p = new RunPolicy(spec);
    if (p.script != null) {
      List<StepBatch> abandoned = h.abandoned();
      List<Rewind> rewinds = s.rewinds();
      for (int k = 0; k < rewinds.size(); k++) {
        if (k < abandoned.size()) p.replay(abandoned.get(k), List.of());
        Rewind r = rewinds.get(k);
        p.script.replayRewind(r.at(), r.to(), r.lrBefore(), r.lrAfter(), r.why());
      }
    }
    List<LrChange> changes = new ArrayList<>(s.lrChanges());
    long last = Long.MIN_VALUE;
    for (StepBatch b : List.of(h.head(Long.MIN_VALUE, REPLAY_HEAD), h.tail(REPLAY_TAIL))) {
      int from = 0;
      while (from < b.size() && b.step()[from] <= last) from++;   // a short run: the tail overlaps the head
      if (from == b.size()) continue;
      p.replay(b.from(from), changes);
      last = b.lastStep();
    }
    // the run's last measurement, if at the lr it ended at, goes on into its evidence
    if (s.curvature() != null && s.curvature().step() >= changedAt(s)) {
      p.diagnoser.curvature(s.curvature().stability());
    }
    p.news = Diagnoser.Change.NONE;
    p.told = p.shown();
    return p;
  }

  /** The step of the run's last lr change (0: none). */
  private static long changedAt(RunSummary s) {
    return s.lrChanges().isEmpty() ? 0 : s.lrChanges().get(s.lrChanges().size() - 1).step();
  }

    /** Replays the steps of {@code b}, and the lr changes of {@code changes} at them (taken from the list). */
  private void replay(StepBatch b, List<LrChange> changes) {
    for (int i = 0; i < b.size(); i++) {
      long step = b.step()[i];
      while (!changes.isEmpty() && changes.get(0).step() <= step) {
        LrChange c = changes.remove(0);
        if (script != null && !"rewind".equals(c.cause())) script.replayLrChange(c.step(), c.from(), c.to(), c.cause());
        else if (script == null) diagnoser.lrChanged(c.step(), c.from(), c.to(), proven(c.cause()));
      }
      lastStep = step;
      if (script != null) script.replay(step, b.loss()[i], b.lr()[i], b.gradNorm()[i]);
      else diagnoser.observe(step, b.loss()[i], b.lr()[i], b.gradNorm()[i], Double.NaN, Double.NaN);
    }
  }

  // ---- a built-in run's

  /** A built-in run's trainer {@code t} starts (its first, one restored, or a new cycle's), rewound {@code rewinds} times. */
  void begin(Trainer t, int rewinds) {
    builtIn = new Policy(spec, diagnoser, t, rewinds);
  }

  /** The step {@code t} just took: what the run does next. */
  Next afterStep(Trainer t) {
    var before = diagnoser.current().verdict();
    diagnoser.curvature(t.stability());   // NaN unless this step was measured: the latest measurement stays
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

  /** What fired the guard at the last step (diverging, non_finite, spike, dead), or null. */
  String trigger() {
    return script != null ? script.trigger() : builtIn.trigger();
  }

  int maxRewinds() {
    return spec.guard() == null ? 0 : spec.guard().maxRewinds();
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

  /**
   * One step a script sent, with its stability if the script measured it there (NaN: not): what its script must do
   * before its next (a probe, an lr, a rewind), or the guard's end.
   */
  ScriptPolicy.Next afterScriptStep(long step, double loss, double lr, double gradNorm, double stability) {
    lastStep = step;
    diagnoser.curvature(stability);   // the latest measurement stays until the lr changes
    ScriptPolicy.Next next = script.observe(step, loss, lr, gradNorm);
    seen();
    return next;
  }

  /** The policy a script's run follows (its probes' factors, auto_lr's lr, where a rewind goes). */
  ScriptPolicy script() {
    return script;
  }

  /** The script ran the probe asked ({@code refused}: it ran none, and why). */
  void probed(Append.Ack ack) {
    if (ack.refused() != null || ack.outcomes().isEmpty()) {
      script.probeRefused();
    } else {
      List<ScriptPolicy.Outcome> os = ack.outcomes().stream()
          .map(o -> new ScriptPolicy.Outcome(o.factor(), o.endLoss(), o.finite())).toList();
      script.probed(os, ack.seconds());
    }
    seen();
  }

  /** The script went back to step {@code to} (a rewind; the lr is now {@code lr}). */
  void scriptRewound(long to, double lr) {
    script.rewound(to, lr);
    seen();
  }

  /** The script could not go back as the guard asked. */
  void notRewound() {
    script.notRewound();
    seen();
  }

  /**
   * A script's run's report for its summary (null for a built-in run): its probes and what auto_lr may do.
   */
  ScriptReport report() {
    if (script == null) return null;
    RunSpec.Lookahead l = spec.rangeTest() ? null : spec.lookahead();
    return new ScriptReport(script.probes(), script.probeSteps(), script.probeSeconds(), l == null ? Double.NaN : l.budget(),
        spec.rangeTest() ? "a range test takes no lr changes" : script.autoLrScope());
  }

  /** For a script's run: news when the diagnosis to show is another than the one last told (or its text changed). */
  private void seen() {
    Diagnosis d = shown();
    Diagnoser.Change c = d.verdict() != told.verdict() || d.sinceStep() != told.sinceStep()
        || d.suggestedLr() != told.suggestedLr() && !(Double.isNaN(d.suggestedLr()) && Double.isNaN(told.suggestedLr()))
        ? Diagnoser.Change.CHANGED : d.equals(told) ? Diagnoser.Change.NONE : Diagnoser.Change.REFRESHED;
    if (c.compareTo(news) > 0) news = c;
  }

  /** Whether {@code lr} is one a run may be set to (what {@code POST /lr} takes): finite and positive. */
  static boolean settable(double lr) {
    return lr > 0 && Double.isFinite(lr);
  }

  // ---- either

  private void observe(long step, double loss, double lr, double gradNorm, double cosine, double efficiency) {
    lastStep = step;
    Diagnoser.Change c = diagnoser.observe(step, loss, lr, gradNorm, cosine, efficiency);
    if (c.compareTo(news) > 0) news = c;
  }

  /**
   * The diagnosis to show: a built-in run's advice proven first; a script's run's as its policy shows it (proven by
   * its script's probes, else labelled unproven); a script's range test's without advice (it blows its loss up on
   * purpose).
   */
  Diagnosis shown() {
    if (builtIn != null) return builtIn.shown();
    Diagnosis d = script != null ? script.shown() : diagnoser.current();
    if (script != null && spec.rangeTest()) {
      return new Diagnosis(d.verdict(), null, Double.NaN, d.sinceStep(), "a learning-rate range test: its lr rises until"
          + " the loss runs away, on purpose, so it takes no advice (see its curve: GET /api/lr-range/{id}); " + d.evidence(),
          Double.NaN);
    }
    return d;
  }

  /**
   * The alert the run raises now (diverging, non_finite, dead once per episode of its diagnosis, also when advice is
   * applied mid-way; too_slow once it lasted 200 steps), or null; none for a range test, nor while a built-in run's
   * advice is being proven.
   */
  Alert.Kind alert(long step) {
    if (spec.rangeTest()) return null;
    String kind = script != null ? script.alert(step) : builtIn == null ? null : builtIn.alert(step);
    return kind == null ? null : Alert.Kind.valueOf(kind.toUpperCase(Locale.ROOT));
  }

  /** What the steps since {@link #told()} did to the diagnosis: changed (news), refreshed (its numbers), or none. */
  Diagnoser.Change news() {
    return news;
  }

  /** The diagnosis as it stands has been told. */
  void told() {
    news = Diagnoser.Change.NONE;
    if (script != null) told = shown();
  }

  /**
   * The lr changed from {@code from} to {@code to} at step {@code at} ({@code cause}: set, advice, auto, rewind): the
   * diagnosis looks afresh (the episode goes on: no second alert), and a raise is a rung of the run's ladder — proven
   * when a built-in run's proven advice made it, or when a script's probe proved it.
   */
  void lrChanged(long at, double from, double to, String cause) {
    if (script != null) {
      if (!"rewind".equals(cause)) script.lrChanged(at, from, to, cause);   // a rewind told the policy itself
      seen();
    } else {
      diagnoser.lrChanged(at, from, to, proven(cause));
      news = Diagnoser.Change.CHANGED;
    }
  }

  /** A built-in run's lr change is proven when its proven advice made it (applied by auto_lr or by a person). */
  private static boolean proven(String cause) {
    return "auto".equals(cause) || "advice".equals(cause);
  }

  /** A new cycle of a run that ended (a demo run starting over): everything forgotten. */
  void startOver() {
    diagnoser.startOver();
    lastStep = 0;
  }

  /** The run ended at {@code step} ({@code how}: its end state): no advice for a run that cannot change. */
  void end(long step, String how) {
    if (diagnoser.ended()) return;
    lastStep = Math.max(step, lastStep);
    if (script != null) script.end(lastStep, how);
    else diagnoser.end(lastStep, how);
    if (script != null) seen();
  }

  /** A script's steps in flight when its run ended were kept, up to {@code step}: the end's text names it. */
  void endedAt(long step) {
    lastStep = Math.max(step, lastStep);
    diagnoser.endedAt(lastStep);
    if (script != null) seen();
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
