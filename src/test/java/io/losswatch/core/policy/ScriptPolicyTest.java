package io.losswatch.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.Guard;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.ExternalTraces;
import io.losswatch.core.diagnosis.Ladder;
import io.losswatch.core.diagnosis.Verdict;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A script's run under its policy, on real recorded minibatch runs ({@link TraceWorld}): what auto_lr, the guard, the
 * probes and a person following the advice do to the failures and to healthy runs.
 */
class ScriptPolicyTest {
  static final Guard GUARD = new Guard(Set.copyOf(Guard.TRIGGERS), 50, 0.1, 3);
  static final ScriptPolicy.Config PLAIN = ScriptPolicy.Config.plain(10);
  static final ScriptPolicy.Config AUTO = new ScriptPolicy.Config(10, false, true, null, 0, ScriptPolicy.Config.BUDGET, 0);
  static final ScriptPolicy.Config GUARDED = new ScriptPolicy.Config(10, false, false, GUARD, 0, ScriptPolicy.Config.BUDGET, 0);

  static ScriptRun run(TraceWorld.Family f, double lr, ScriptPolicy.Config c, boolean followAdvice, int steps) {
    return new ScriptRun(new ScriptPolicy(c), new TraceWorld(f, lr), followAdvice).run(steps);
  }

  @Test
  void autoLrFromSgd1e4ClimbsToItsLimitAndStays() {
    // the issue's: up to 0.1, then 1, 10, 100, bouncing 10 ↔ 100; it ended at lr 10, val_acc 0.10
    ScriptRun r = run(TraceWorld.Family.SGD, 1e-4, AUTO, false, 3000);
    assertEquals(List.of(1e-4, 1e-3, 1e-2), r.lrPath, r.report());
    assertEquals(0, r.reversals());
    assertTrue(r.world.valAcc() >= 0.9, r.report());
    assertTrue(r.alerts.stream().noneMatch(a -> a.matches("\\d+:(diverging|dead|non_finite)")), r.report());
    assertTrue(r.policy.autoLrScope().contains("at most ×10000"), r.policy.autoLrScope());
  }

  @Test
  void autoLrFromAdam1NeverGoesBackAboveWhatFailed() {
    // the issue's: 1 → 0.1 → 1 → 10 → 100 → 10 → 100 → 10 → 100 → 10 (9 changes, 6 reversals), val_acc 0.10
    ScriptRun r = run(TraceWorld.Family.ADAM, 1, AUTO, false, 1500);
    assertEquals(List.of(1.0, 0.1), r.lrPath, r.report());
    assertTrue(r.reversals() <= 3);
    assertEquals(List.of("21:diverging", "139:dead"), r.alerts, "one alert an episode: " + r.report());
    for (int i = 20; i < r.shown.size(); i++) {
      Diagnosis d = r.shown.get(i);
      assertTrue(Set.of(Verdict.DIVERGING, Verdict.DEAD, Verdict.UNKNOWN).contains(d.verdict()), "step " + (i + 1) + ": " + d);
      assertTrue(!d.hasAdvice() || d.suggestedLr() <= 0.1, d.toString());
    }
    Diagnosis last = r.shown.get(r.shown.size() - 1);
    assertEquals(0.1, last.retryLr(), "restart from before the blow-up a decade lower");
  }

  @Test
  void theGuardRewindsAdam1ToBeforeItsBlowUpAndItTrains() {
    ScriptRun r = run(TraceWorld.Family.ADAM, 1, GUARDED, false, 1500);
    assertTrue(r.events.get(0).equals("21: rewind (diverging) to 0 ×0.1"), r.report());
    assertTrue(r.policy.rewinds() >= 1 && r.policy.rewinds() <= 3 && !r.diverged, r.report());
    assertTrue(r.world.valAcc() >= 0.9, r.report());
    assertTrue(r.lrPath.stream().skip(1).allMatch(lr -> lr <= 0.1 + 1e-12), r.report());
    // the memory outlives the rewinds: lr 1 blew up (and a later spike at 0.1 fired the guard again)
    assertTrue(r.policy.diagnoser().failed().all().stream().anyMatch(f -> f.lr() == 1), r.policy.diagnoser().failed().all().toString());
    assertTrue(r.policy.diagnoser().failed().ceiling() <= 1);
  }

  @Test
  void theGuardRevivesSgd5EvenWhenItsFirstRetryDiesSlowly() {
    // ×0.1 of lr 5 with momentum 0.9 learns, then fades to chance by step ~1,100 and blows up at 1,273 (recorded):
    // dead without a blow-up, the guard goes back to where lr 0.5 took effect (its best state may be crippled already:
    // its units die all along), another decade down
    ScriptRun r = run(TraceWorld.Family.MOMENTUM, 5, GUARDED, false, 1500);
    assertEquals("21: rewind (diverging) to 0 ×0.1", r.events.get(0), r.report());
    assertTrue(r.events.get(1).matches("\\d+: rewind \\(dead\\) to 0 ×0\\.1"), r.report());
    assertEquals(2, r.policy.rewinds());
    assertTrue(r.world.valAcc() >= 0.9, r.report());
  }

  @Test
  void aGuardOutOfRewindsEndsTheRun() {
    Guard once = new Guard(Set.copyOf(Guard.TRIGGERS), 50, 0.1, 1);
    ScriptRun r = run(TraceWorld.Family.MOMENTUM, 5, new ScriptPolicy.Config(10, false, false, once, 0, 0.1, 0), false, 1500);
    assertTrue(r.diverged, r.report());
    assertEquals(1, r.policy.rewinds());
  }

  @Test
  void followingTheAdviceClimbsTheLadderRungByRung() {
    // the issue's: too_slow at 237, ×10 to 1e-4, then flapping; one ×10 from 1e-5 is four decades short
    ScriptRun r = run(TraceWorld.Family.SGD, 1e-5, PLAIN, true, 3000);
    assertEquals(List.of(1e-5, 1e-4, 1e-3, 1e-2, 1e-1), r.lrPath, r.report());
    List<Ladder.Rung> rungs = r.policy.diagnoser().ladder().rungs();
    assertEquals(4, rungs.size());
    assertTrue(rungs.stream().allMatch(g -> g.state() == Ladder.State.OBSERVED), rungs.toString());
    assertTrue(r.world.valAcc() >= 0.9, r.report());
    // each rung's advice was labelled unproven and said how far the evidence goes
    Diagnosis advised = r.shown.stream().filter(Diagnosis::hasAdvice).findFirst().orElseThrow();
    assertTrue(advised.evidence().endsWith("(advice unproven: a probe would check it on your model (lookahead))"),
        advised.evidence());
    assertTrue(advised.advice().contains("the evidence supports about 4 decades (to lr 0.1)"), advised.advice());
    assertTrue(r.shown.stream().noneMatch(d -> d.verdict() == Verdict.OSCILLATING), r.report());
  }

  @Test
  void probesProveTheLadderWithinTheirBudget() {
    ScriptPolicy.Config probing = new ScriptPolicy.Config(10, false, true, null, 20, ScriptPolicy.Config.BUDGET, 3000);
    ScriptRun r = run(TraceWorld.Family.SGD, 1e-4, probing, false, 3000);
    assertTrue(r.policy.probeSteps() <= 0.1 * 3000, "budget: " + r.policy.probeSteps());
    assertTrue(r.policy.probes() >= 3, r.report());
    // the tiny lrs: a 20-step look-ahead cannot tell ×10 from ×1 in the noise, so the rules' advice stands, unproven
    assertTrue(r.shown.stream().anyMatch(d -> d.evidence().contains("could not tell the lrs apart")), r.report());
    // at 1e-2, ×10 wins, and the ladder's follow-up proves ×100 (lr 1; ×1000 blows up)
    Diagnosis tenfold = r.shown.stream().filter(d -> d.hasAdvice() && d.advice().contains("(proven by look-ahead)"))
        .findFirst().orElseThrow(() -> new AssertionError(r.report()));
    assertEquals("raise the lr ×10 to 0.1 (proven by look-ahead)", tenfold.advice());
    Diagnosis climbed = r.shown.stream().filter(d -> d.hasAdvice() && d.advice().contains("×100"))
        .findFirst().orElseThrow(() -> new AssertionError(r.report()));
    assertEquals("raise the lr ×100 to 1 (proven by look-ahead)", climbed.advice());
    assertTrue(climbed.evidence().contains("higher, from the same state: ×100 "), climbed.evidence());
    // auto_lr takes the proven ×100 to 1; when that diverges later it cuts once, to 0.1 (the best fixed lr), and stays
    assertEquals(List.of(1e-4, 1e-3, 1e-2, 1.0, 0.1), r.lrPath, r.report());
    assertTrue(r.world.valAcc() >= 0.9, r.report());
  }

  @Test
  void aProbeItDidNotAskForOrAnIncompleteOneProvesNothing() {
    ScriptPolicy p = new ScriptPolicy(new ScriptPolicy.Config(10, false, false, null, 20, 0.1, 3000));
    p.probed(List.of(new ScriptPolicy.Outcome(10, 0.1, true)), 1);
    assertEquals(0, p.probes());
    TraceWorld w = new TraceWorld(TraceWorld.Family.ADAM, 1);
    ScriptPolicy.Next next = ScriptPolicy.Next.STEP;
    for (int i = 0; i < 21 && next == ScriptPolicy.Next.STEP; i++) {
      TraceWorld.Row r = w.next();
      next = p.observe(r.step(), r.loss(), r.lr(), r.gradNorm());
    }
    assertEquals(ScriptPolicy.Next.PROBE, next, "diverging at step 21: its cut is checked first");
    assertEquals(List.of(1.0, 0.1, 0.01), java.util.Arrays.stream(p.probeFactors()).boxed().toList(),
        "×10 is not tried: it is the lr 10, above the lr 1 the run blew up at");
    p.probed(List.of(new ScriptPolicy.Outcome(0.1, 2.3, true)), 1);   // no ×1 branch
    assertEquals(1, p.probes());
    assertTrue(p.shown().evidence().contains("advice unproven"), p.shown().evidence());
  }

  @Test
  void healthyRunsUnderEveryPolicyRaiseNoAlarm() {
    ScriptPolicy.Config all = new ScriptPolicy.Config(10, false, true, GUARD, 0, ScriptPolicy.Config.BUDGET, 0);
    for (String name : List.of("sgd_lr1e-2", "sgd_lr1e-1", "adam_lr1e-3", "adam_lr0.01", "sgd_lr0.05_momentum",
        "sgd_momentum_cosine", "adam_step_decay", "sgd_warmup_cosine", "adam_warmup")) {
      ExternalTraces.Trace t = ExternalTraces.load(name);
      ScriptPolicy p = new ScriptPolicy(all);
      for (int i = 0; i < t.size(); i++) {
        ScriptPolicy.Next next = p.observe(t.step()[i], t.loss()[i], t.lr()[i], t.gradNorm()[i]);
        String alert = p.alert(t.step()[i]);
        assertTrue(alert == null || alert.equals("too_slow"), name + " step " + t.step()[i] + ": " + alert + " " + p.shown());
        assertTrue(next == ScriptPolicy.Next.STEP || next == ScriptPolicy.Next.SET_LR && p.autoLr() > t.lr()[i],
            name + " step " + t.step()[i] + ": " + next + " " + p.shown());
        if (next == ScriptPolicy.Next.SET_LR) p.lrChanged(t.step()[i] + 1, t.lr()[i], p.autoLr(), "auto");
      }
      assertEquals(0, p.rewinds(), name);
    }
  }

  @Test
  void appliedAdviceMidEpisodeRaisesNoSecondAlert() {
    // the issue's: applying advice raised a second, identical diverging alert at the same step
    ScriptRun r = run(TraceWorld.Family.ADAM, 1, PLAIN, true, 400);
    assertEquals(List.of("21:diverging", "139:dead"), r.alerts, r.report());
    assertEquals(List.of(1.0, 0.1), r.lrPath, "no second cut while it waits, no raise back: " + r.report());
  }

  @Test
  void aSelfTuningOptimizerIsNeitherProbedNorSteered() {
    ScriptPolicy.Config c = new ScriptPolicy.Config(10, true, true, null, 20, 1, 0);
    ScriptRun r = run(TraceWorld.Family.SGD, 1e-5, c, true, 600);
    assertEquals(List.of(1e-5), r.lrPath, r.report());
    assertEquals(0, r.policy.probes());
    assertTrue(r.shown.stream().noneMatch(Diagnosis::hasAdvice), r.report());
    assertTrue(r.shown.get(599).advice().contains("d_coef"), r.shown.get(599).advice());
    assertTrue(r.policy.autoLrScope().contains("does nothing"), r.policy.autoLrScope());
  }

  @Test
  void stepsStillInFlightDuringARewindTriggerNothing() {
    ScriptPolicy p = new ScriptPolicy(GUARDED);
    ExternalTraces.Trace t = ExternalTraces.load("adam_lr1");
    int i = 0;
    ScriptPolicy.Next next = ScriptPolicy.Next.STEP;
    for (; next == ScriptPolicy.Next.STEP; i++) next = p.observe(t.step()[i], t.loss()[i], t.lr()[i], t.gradNorm()[i]);
    assertEquals(ScriptPolicy.Next.REWIND, next);
    assertEquals(0, p.rewindTo());
    assertEquals("diverging", p.trigger());
    for (int k = 0; k < 300; k++, i++) {
      assertEquals(ScriptPolicy.Next.STEP, p.observe(t.step()[i], t.loss()[i], t.lr()[i], t.gradNorm()[i]), "step " + t.step()[i]);
    }
    assertTrue(p.rewinding());
    p.rewound(0, 0.1);
    assertFalse(p.rewinding());
    assertEquals(1, p.rewinds());
    assertEquals(Diagnosis.UNKNOWN, p.shown());
  }
}
