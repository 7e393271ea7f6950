package io.losswatch.core.diagnosis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.diagnosis.ExternalTraces.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The diagnosis of real minibatch runs (issue 20's digits MLP, recorded with torch: {@link ExternalTraces}), fed as a
 * script's appends feed it: no update geometry, the raw minibatch loss, the script's lr and gradient norm.
 */
class ExternalDiagnosisTest {
  /** A run fed through a script's diagnoser; {@code cutAt}: the step an lr change the user applied took effect (0: none). */
  static final class Fed {
    final Diagnoser d;
    final List<Diagnosis> ds = new ArrayList<>();
    final List<Diagnoser.Change> changes = new ArrayList<>();
    final Trace t;

    Fed(String name, Diagnoser.Setup setup, long cutAt) {
      t = ExternalTraces.load(name);
      d = new Diagnoser(setup);
      for (int i = 0; i < t.size(); i++) {
        if (t.step()[i] == cutAt) d.lrChanged(cutAt, t.lr()[i - 1], t.lr()[i], false);
        changes.add(d.observe(t.step()[i], t.loss()[i], t.lr()[i], t.gradNorm()[i], Double.NaN, Double.NaN));
        ds.add(d.current());
      }
    }

    Fed(String name) {
      this(name, Diagnoser.Setup.script(ExternalTraces.load(name).numClasses(), false), 0);
    }

    Diagnosis at(long step) {
      return ds.get((int) step - 1);
    }

    long first(Verdict v) {
      for (int i = 0; i < ds.size(); i++) if (ds.get(i).verdict() == v) return i + 1;
      return -1;
    }

    String timeline() {
      return DiagnoserTest.timeline(ds);
    }
  }

  @Test
  void sgdAtLr5DiesAtChanceAndIsNeverCalledHealthy() {
    // the issue's: the loss spikes to 163 at step 9, then sits at ln 10 for 2,000 steps (val_acc 0.10); it was
    // "converging, keep the lr" from step 21 to the end, with no alert
    Fed f = new Fed("sgd_lr5_momentum");
    assertEquals(21, f.first(Verdict.DIVERGING), f.timeline());
    long dead = f.first(Verdict.DEAD);
    assertTrue(dead > 100 && dead <= 200, "dead within 100 steps of settling: " + f.timeline());
    for (int i = 20; i < f.ds.size(); i++) {
      Diagnosis x = f.ds.get(i);
      assertTrue(x.verdict() == Verdict.DIVERGING || x.verdict() == Verdict.DEAD, "step " + (i + 1) + ": " + x);
      assertTrue(!x.hasAdvice() || x.suggestedLr() < 5, "never back to the lr it blew up at: " + x);
    }
    Diagnosis d = f.at(dead);
    assertFalse(d.hasAdvice(), "no lr change revives it");
    assertTrue(d.advice().startsWith("an lr change cannot revive it: rewind to before step 9"), d.advice());
    assertEquals(0.5, d.retryLr());
    assertTrue(d.evidence().contains("blew up to 163 at step 9") && d.evidence().contains("ln 10 = 2.3"), d.evidence());
    assertEquals(5, f.d.failed().ceiling());
    f.d.end(2000, "finished");
    assertEquals(0.5, f.d.current().retryLr(), "run again: a decade under the lr it died at");
    assertEquals(Verdict.DEAD, f.d.current().verdict());
  }

  @Test
  void sgdAtLr0_5LearnsThenLosesItAllAndIsDead() {
    // no blow-up: the loss falls to 0.79 by step 41, then creeps back to ln 10 over 1,200 steps while its gradient
    // fades (and blows up at 1273; val_acc 0.11) — what a guard's first rewind from lr 5 met; it was "converging" to the end
    Fed f = new Fed("sgd_lr0.5_momentum");
    long dead = f.first(Verdict.DEAD);
    assertTrue(dead > 0, f.timeline());
    for (int i = (int) dead; i < f.ds.size(); i++) {
      assertFalse(Set.of(Verdict.CONVERGING, Verdict.CONVERGED, Verdict.TOO_SLOW).contains(f.ds.get(i).verdict()),
          "step " + (i + 1) + ": " + f.timeline());
    }
    Diagnosis d = f.at(dead);
    assertTrue(d.evidence().startsWith("it lost what it had learnt"), d.evidence());
    assertEquals(0.05, d.retryLr());
    // not to its best step (71): it was losing units all along at lr 0.5, so back to where that lr took effect
    assertTrue(d.advice().startsWith("an lr change cannot revive it: rewind to before step 1 (where its lr took effect)"),
        d.advice());
    assertEquals(0.5, f.d.failed().ceiling());
    System.out.println("sgd lr 0.5: dead at step " + dead + ": " + d);
  }

  @Test
  void sgdAtLr0_5ThatLosesTwoThirdsOfWhatItLearntIsDeadToo() {
    // a guard's rewind from lr 5 that came 60 batches late: the loss falls to about 1, creeps back to 1.8 with its
    // gradient faded (val_acc 0.31); losing half the way back to a guess's loss was the bar, and it was "converging"
    // to the end (so was the CI guard run of this shape: val_acc 0.42)
    Fed f = new Fed("sgd_lr0.5_momentum_skip60");
    long dead = f.first(Verdict.DEAD);
    assertTrue(dead > 0, f.timeline());
    assertEquals(Verdict.DEAD, f.ds.get(f.ds.size() - 1).verdict(), f.timeline());
    assertTrue(f.at(dead).evidence().startsWith("it lost what it had learnt"), f.at(dead).evidence());
    assertEquals(0.05, f.at(dead).retryLr());
  }

  @Test
  void adamAtLr1BlowsUpAndDiesAndIsNeverConverged() {
    // the issue's: 2.30 → thousands at step 2, dead after; at the end it was "converged (gradient norm fell to
    // 0.0000652 of its largest)"
    Fed f = new Fed("adam_lr1");
    Diagnosis first = f.at(21);
    assertEquals(Verdict.DIVERGING, first.verdict());
    assertEquals(0.1, first.suggestedLr());
    // the raw numbers, named, beside the smoothed one: the raw loss fell from 5,890 to 3.16 over those steps
    assertTrue(first.evidence().startsWith("the raw loss blew up to 5890 at step 2")
        && first.evidence().contains("raw now 3.16") && first.evidence().contains("(smoothed, an EWMA over 20 steps: "),
        first.evidence());
    assertTrue(f.first(Verdict.DEAD) > 100, f.timeline());
    assertTrue(f.ds.subList(20, f.ds.size()).stream().allMatch(x -> x.verdict() == Verdict.DIVERGING || x.verdict() == Verdict.DEAD),
        f.timeline());
    assertEquals(Verdict.DEAD, f.ds.get(f.ds.size() - 1).verdict());
  }

  @Test
  void adamAtLr1CutTenfoldIsStillDeadAndNeverAdvisedBackToLr1() {
    // the issue's: ÷10 applied at step 23; at step 249 "too_slow: raise the lr ×10 to 1", retry_lr 1
    Fed f = new Fed("adam_lr1_cut_at_23", Diagnoser.Setup.script(10, false), 23);
    for (Diagnosis x : f.ds) {
      assertTrue(x.verdict() != Verdict.TOO_SLOW && x.verdict() != Verdict.CONVERGING && x.verdict() != Verdict.CONVERGED,
          x.toString());
      assertTrue(!x.hasAdvice() || x.suggestedLr() <= 0.1 + 1e-12, x.toString());
      assertTrue(Double.isNaN(x.retryLr()) || x.retryLr() < 1, x.toString());
    }
    Diagnosis waiting = f.at(60);
    assertEquals(Verdict.DIVERGING, waiting.verdict());
    assertFalse(waiting.hasAdvice(), "after the cut it waits, no second cut: " + waiting);
    assertTrue(waiting.advice().startsWith("wait: the lr was cut to 0.1 after the blow-up"), waiting.advice());
    // one piece of news per episode: diverging (before and after the cut the user applied), then dead
    assertEquals(2, f.changes.stream().filter(c -> c == Diagnoser.Change.CHANGED).count(), f.timeline());
    Diagnosis dead = f.ds.get(f.ds.size() - 1);
    assertEquals(Verdict.DEAD, dead.verdict());
    assertEquals(0.1, dead.retryLr());
    f.d.end(1500, "finished");
    assertEquals(0.1, f.d.current().retryLr());
    assertEquals(Set.of(1.0), Set.copyOf(f.d.failed().all().stream().map(FailedLrs.Failure::lr).toList()));
  }

  @Test
  void sgdAtLr10BlowsUpToE10AndDies() {
    Fed f = new Fed("sgd_lr10");
    assertEquals(Verdict.DIVERGING, f.at(21).verdict());
    assertEquals(1, f.at(21).suggestedLr());
    assertEquals(Verdict.DEAD, f.ds.get(f.ds.size() - 1).verdict(), f.timeline());
  }

  @Test
  void creepingRunsAreTooSlowAndToldHowFar() {
    // the ladder: 1e-5 → val_acc 0.09, 1e-3 → 0.28, 1e-2 → 0.92, 1e-1 → 0.96; one ×10 from 1e-5 is four decades short
    double[] lrs = {1e-5, 1e-4, 1e-3};
    String[] names = {"sgd_lr1e-5", "sgd_lr1e-4", "sgd_lr1e-3"};
    for (int k = 0; k < lrs.length; k++) {
      Fed f = new Fed(names[k]);
      int decades = 4 - k;
      Diagnosis d = f.at(200);
      assertEquals(Verdict.TOO_SLOW, d.verdict(), names[k] + " " + f.timeline());
      assertEquals(Diagnoser.nice(lrs[k] * 10), d.suggestedLr());
      assertEquals(decades, f.d.decadesSupported(), d.evidence());
      assertTrue(d.evidence().contains("the evidence supports about " + decades + " decades more before a step takes 1% of"
          + " the loss (to lr 0.1)"), d.evidence());
      assertTrue(d.advice().endsWith("the evidence supports about " + decades + " decades (to lr 0.1): raise again once"
          + " this one held"), d.advice());
    }
    // at 1e-2 one decade is left, and then none
    Fed f = new Fed("sgd_lr1e-2");
    assertEquals(Verdict.TOO_SLOW, f.at(100).verdict());
    assertTrue(f.at(100).evidence().contains("about 1 decade more"), f.at(100).evidence());
  }

  @Test
  void aRangeTestSaysHowFarInstead() {
    Trace t = ExternalTraces.load("sgd_lr1e-5");
    Diagnoser d = new Diagnoser(Diagnoser.Setup.script(10, false));
    d.rangeTest(0.01);
    for (int i = 0; i < 100; i++) d.observe(t.step()[i], t.loss()[i], t.lr()[i], t.gradNorm()[i], Double.NaN, Double.NaN);
    assertEquals(Verdict.TOO_SLOW, d.current().verdict());
    assertEquals(3, d.decadesSupported());
    assertTrue(d.current().evidence().contains("a range test suggests lr 0.01: the evidence supports about 3 decades more"
        + " (to lr 0.01)"), d.current().evidence());
  }

  @Test
  void minibatchNoiseIsNotOscillation() {
    // the issue's: SGD 1e-4 flapped to "oscillating, cut ÷10" at ~1,584 and ~2,770 (17 sign changes in 20 losses)
    for (String name : List.of("sgd_lr1e-5", "sgd_lr1e-4", "sgd_lr1e-3", "sgd_lr1e-2", "sgd_lr1e-1", "adam_lr1e-3",
        "adam_lr0.01", "adam_lr0.1")) {
      Fed f = new Fed(name);
      assertEquals(-1, f.first(Verdict.OSCILLATING), name + ": " + f.timeline());
      assertTrue(DiagnoserTest.changes(f.ds, 25) <= 2, name + ": " + f.timeline());
    }
  }

  @Test
  void adamAtLr0_1OvershootsInItsFirstStepsAndIsToldToCutTenfold() {
    // Adam's first step moves every weight by about the lr: at 0.1 the loss leaps from 2.31 to 11.1 at step 2 and the
    // run, though it learns, ends at val_acc 0.908, where lr 0.01 ends at 0.978 (the guard's CI run of stop 29
    // rewound Adam lr 1 to 0.1 and ended at chance, with nothing said)
    Fed f = new Fed("adam_lr0.1");
    Diagnosis first = f.at(21);
    assertEquals(Verdict.DIVERGING, first.verdict(), f.timeline());
    assertEquals(0.01, first.suggestedLr());
    assertTrue(first.evidence().startsWith("the raw loss blew up to 11.1 at step 2 (×4.82 the trivial level")
        && first.evidence().contains("; it learns again since: raw now 0.796"), first.evidence());
    assertTrue(ExternalTraces.load("adam_lr0.01").finalValAcc() > f.t.finalValAcc() + 0.05, "the advice, applied, is better");
    // told once; it learns after and is not called diverging again, nor advised back to 0.1
    assertEquals(Verdict.CONVERGING, f.ds.get(f.ds.size() - 1).verdict(), f.timeline());
    assertEquals(1, f.changes.stream().filter(c -> c == Diagnoser.Change.CHANGED).count() - 1, f.timeline());
    for (Diagnosis x : f.ds) assertTrue(!x.hasAdvice() || x.suggestedLr() < 0.1, x.toString());
  }

  @Test
  void aRetryThatOvershootsAfterABlowUpIsCutAgainThoughTheScriptNamesNoClasses() {
    // the guard's case for a script that never says num_classes: Adam at lr 1 blows up, is rewound to its start at 0.1
    Diagnoser d = new Diagnoser(Diagnoser.Setup.script(0, false));
    Trace blewUp = ExternalTraces.load("adam_lr1");
    for (int i = 0; i < 25; i++) d.observe(blewUp.step()[i], blewUp.loss()[i], 1, blewUp.gradNorm()[i], Double.NaN, Double.NaN);
    assertEquals(Verdict.DIVERGING, d.current().verdict());
    d.rewound();
    Trace retry = ExternalTraces.load("adam_lr0.1");
    for (int i = 0; i < 21; i++) d.observe(retry.step()[i], retry.loss()[i], 0.1, retry.gradNorm()[i], Double.NaN, Double.NaN);
    assertEquals(Verdict.DIVERGING, d.current().verdict(), d.current().toString());
    assertEquals(0.01, d.current().suggestedLr());
    // a first run at 0.1 that names no classes has failed nowhere: its leap alone is not called an overshoot
    Fed fresh = new Fed("adam_lr0.1", Diagnoser.Setup.script(0, false), 0);
    assertEquals(-1, fresh.first(Verdict.DIVERGING), fresh.timeline());
  }

  @Test
  void healthyRunsRaiseNoAlarm() {
    for (String name : List.of("sgd_lr1e-2", "sgd_lr1e-1", "adam_lr1e-3", "adam_lr0.01", "adam_lr0.01_skip40", "sgd_lr0.05_momentum",
        "sgd_momentum_cosine", "adam_step_decay", "sgd_warmup_cosine", "adam_warmup")) {
      Fed f = new Fed(name);
      for (Diagnosis x : f.ds) {
        assertTrue(Set.of(Verdict.UNKNOWN, Verdict.CONVERGING, Verdict.CONVERGED, Verdict.TOO_SLOW).contains(x.verdict()),
            name + ": " + f.timeline());
      }
      assertTrue(f.d.failed().isEmpty(), name);
      assertTrue(f.t.finalValAcc() > 0.9, name + " trained: " + f.t.finalValAcc());
    }
  }

  @Test
  void aScriptsFloat32OverflowIsNeverEstimated() {
    // the issue's: "the loss overflows in about 3,738 steps"; float32 reached inf at step 433 (here 447)
    Fed f = new Fed("linreg_lr0.9_float32");
    assertTrue(f.first(Verdict.DIVERGING) <= 25, f.timeline());
    assertEquals(447, f.first(Verdict.NON_FINITE));
    for (Diagnosis x : f.ds) {
      String text = x.advice() + " " + x.evidence();
      assertFalse(text.contains("overflows"), text);
    }
    assertEquals(0.09, f.at(447).suggestedLr());
    assertEquals(0.9, f.d.failed().ceiling());
    // an alert per episode: diverging, then non_finite (the converging at step 21 raises none)
    assertEquals(List.of(Verdict.CONVERGING, Verdict.DIVERGING, Verdict.NON_FINITE), news(f));
  }

  /** The verdicts that came as news (Change.CHANGED), in order. */
  static List<Verdict> news(Fed f) {
    List<Verdict> out = new ArrayList<>();
    for (int i = 0; i < f.changes.size(); i++) if (f.changes.get(i) == Diagnoser.Change.CHANGED) out.add(f.ds.get(i).verdict());
    return out;
  }

  @Test
  void noAdviceFromAnLrThatIsNoLr() {
    // issue 19.14: a negative or NaN lr in appends was advised back: "cut the lr ÷10 to -0.05"
    for (double bad : new double[] {-0.5, 0, Double.NaN, Double.POSITIVE_INFINITY}) {
      Trace t = ExternalTraces.load("linreg_lr0.9_float32");
      Diagnoser d = new Diagnoser(Diagnoser.Setup.script(0, false));
      for (int i = 0; i < t.size(); i++) {
        d.observe(t.step()[i], t.loss()[i], bad, t.gradNorm()[i], Double.NaN, Double.NaN);
        Diagnosis x = d.current();
        assertFalse(x.hasAdvice(), bad + ": " + x);
        assertTrue(x.advice() == null || !x.advice().matches(".*(cut|raise) the lr.*"), x.advice());
      }
      assertEquals(Verdict.NON_FINITE, d.current().verdict());
      assertTrue(d.current().advice().startsWith("no lr advice: the lr it reports (" + bad + ") is not a positive finite"),
          d.current().advice());
      d.end(t.size(), "finished");
      assertTrue(Double.isNaN(d.current().retryLr()), "no retry lr from no lr");
    }
  }

  @Test
  void aSelfTuningOptimizerGetsNoLrFactor() {
    for (String name : List.of("adam_lr1", "sgd_lr1e-5", "linreg_lr0.9_float32")) {
      Trace t = ExternalTraces.load(name);
      Fed f = new Fed(name, Diagnoser.Setup.script(t.numClasses(), true), 0);
      for (Diagnosis x : f.ds) {
        assertFalse(x.hasAdvice(), x.toString());
        assertTrue(Double.isNaN(x.retryLr()), x.toString());
        assertTrue(x.advice() == null || !x.advice().contains("÷10") && !x.advice().contains("×10"), x.advice());
      }
      Diagnosis last = f.ds.get(f.ds.size() - 1);
      assertTrue(last.advice().contains("d_coef"), last.advice());
    }
  }

  @Test
  void noRaiseComesWithinHalfADecadeOfAFailedLr() {
    // Adam blew up at lr 1; at lr 0.1 a creeping loss may be raised ×3 to 0.3, not ×10 to 1; at 0.3, not at all
    Trace t = ExternalTraces.load("sgd_lr1e-5");
    for (double lr : new double[] {0.1, 0.3}) {
      Diagnoser d = new Diagnoser(Diagnoser.Setup.script(10, false));
      d.failed().add(2, 1.0, "blew up");
      for (int i = 0; i < 300; i++) d.observe(t.step()[i], t.loss()[i], lr, t.gradNorm()[i] / 100, Double.NaN, Double.NaN);
      Diagnosis x = d.current();
      assertEquals(Verdict.TOO_SLOW, x.verdict(), x.toString());
      if (lr == 0.1) {
        assertEquals(0.3, x.suggestedLr());
        assertEquals("raise the lr ×3 to 0.3 (×10 would come within half a decade of lr 1 blew up at step 2)", x.advice());
      } else {
        assertFalse(x.hasAdvice());
        assertEquals("keep the lr: a raise would come within half a decade of lr 1 blew up at step 2", x.advice());
      }
      d.end(300, "finished");
      assertTrue(!(d.current().retryLr() >= 1), "run again below the failed lr: " + d.current().retryLr());
    }
  }
}
