package io.losswatch.core.diagnosis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiagnoserTest {
  /** The diagnosis after each step of a real run. */
  static List<Diagnosis> diagnose(String spec, int steps) {
    Trainer t = new Trainer(RunSpec.parse(spec));
    Diagnoser d = new Diagnoser();
    List<Diagnosis> out = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      t.step();
      d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
      out.add(d.current());
    }
    return out;
  }

  static String sgd(double lr) {
    return "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":" + lr + "},\"steps\":1000}";
  }

  static long changes(List<Diagnosis> ds, int from) {
    long c = 0;
    for (int i = from + 1; i < ds.size(); i++) if (ds.get(i).verdict() != ds.get(i - 1).verdict()) c++;
    return c;
  }

  @Test
  void textbookTooSmall() {
    List<Diagnosis> ds = diagnose(sgd(0.001), 200);
    Diagnosis d = ds.get(199);
    assertEquals(Verdict.TOO_SLOW, d.verdict(), d.evidence());
    assertEquals(0.01, d.suggestedLr());
    assertTrue(d.advice().contains("raise"), d.advice());
    assertEquals(0, changes(ds, 40), "stable");
  }

  @Test
  void textbookJustRight() {
    List<Diagnosis> ds = diagnose(sgd(0.1), 300);
    for (int i = 30; i < 300; i++) {
      Verdict v = ds.get(i).verdict();
      assertTrue(v == Verdict.CONVERGING || v == Verdict.CONVERGED, "step " + (i + 1) + ": " + v + " " + ds.get(i).evidence());
    }
    assertEquals(Verdict.CONVERGED, ds.get(299).verdict());
    assertFalse(ds.get(299).hasAdvice(), "flat is not slow here");
  }

  @Test
  void textbookOvershootingOscillatesUntilTheLossIsAtItsFloor() {
    // x ← −0.8x: the updates flip, yet x² shrinks ×0.64 a step, as at lr 0.1 (x ← 0.8x)
    List<Diagnosis> ds = diagnose(sgd(0.9), 2500);
    // the floor: step k's gradient 2·10·0.8^(k−1) falls to 1e-4 of the first one's at step 43 (loss 7e-7 of its first)
    int floor = 1;
    while (Math.pow(0.8, floor - 1) > Diagnoser.GRAD_FLOOR) floor++;
    assertEquals(43, floor);
    for (int step = Diagnoser.WINDOW + 1; step < floor + Diagnoser.HOLD - 1; step++) {
      Diagnosis d = ds.get(step - 1);
      assertEquals(Verdict.OSCILLATING, d.verdict(), "step " + step);
      assertEquals(0.09, d.suggestedLr());
    }
    assertTrue(ds.get(Diagnoser.WINDOW).evidence().contains("mean cosine -1 < -0.5"), ds.get(Diagnoser.WINDOW).evidence());
    // at the floor, converged wins: through 1e-76 (step 400) and the loss's underflow to 0 (x² < 4.9e-324 from step ~1680)
    for (int step = floor + Diagnoser.HOLD - 1; step <= 2500; step++) {
      Diagnosis d = ds.get(step - 1);
      assertEquals(Verdict.CONVERGED, d.verdict(), "step " + step + ": " + d.evidence());
      assertEquals(floor, d.sinceStep());
      assertFalse(d.hasAdvice());
    }
    assertTrue(ds.get(399).evidence().contains("of its largest (rule: ≤ 0.0001)"), ds.get(399).evidence());
    assertEquals(Verdict.CONVERGED, diagnose(sgd(0.1), 400).get(399).verdict(), "the same as at lr 0.1");
  }

  @Test
  void aLossAtItsFloorWithoutAGradientIsConverged() {
    // a script that sends no gradient norm: the loss falls twelve orders of magnitude and stays, then underflows to 0
    Diagnoser d = new Diagnoser();
    for (int s = 1; s <= 400; s++) {
      double loss = s <= 300 ? 5 * Math.pow(0.85, s) : 0;
      d.observe(s, loss, 0.1, Double.NaN, Double.NaN, Double.NaN);
      if (s == 250) {
        assertEquals(Verdict.CONVERGED, d.current().verdict(), d.current().evidence());
        assertTrue(d.current().evidence().contains("of its first (rule: < 1E-12)"), d.current().evidence());
      }
    }
    assertEquals(Verdict.CONVERGED, d.current().verdict(), d.current().evidence());
  }

  @Test
  void aLossThatAlternatesWithNoNetProgressQuotesTheRule() {
    Diagnoser d = new Diagnoser();
    for (int s = 1; s <= 60; s++) d.observe(s, s % 2 == 0 ? 2 : 1, 0.5, 1, Double.NaN, Double.NaN);
    assertEquals(Verdict.OSCILLATING, d.current().verdict());
    assertTrue(d.current().evidence().matches("the loss alternated up and down 19 times in 20 steps \\(rule: ≥ 16\\)"
        + " with no net progress \\(ratio 1(\\.0\\d*)? > 0\\.99\\), regularly \\(lag-1 autocorrelation -(0\\.9\\d*|1) ≤ -0\\.8\\)"),
        d.current().evidence());
  }

  @Test
  void textbookDiverging() {
    List<Diagnosis> ds = diagnose(sgd(1.1), 60);
    int first = -1;
    for (int i = 0; i < ds.size() && first < 0; i++) if (ds.get(i).verdict() == Verdict.DIVERGING) first = i + 1;
    assertTrue(first > 0 && first <= 25, "flagged by step 25, was " + first);
    Diagnosis d = ds.get(59);
    assertEquals(Verdict.DIVERGING, d.verdict());
    assertEquals(0.11, d.suggestedLr());
    assertTrue(d.advice().contains("overflows in about"), d.advice());
    long left = Long.parseLong(d.advice().replaceAll(".*about (\\d+) steps.*", "$1"));
    // x grows ×1.2 a step, the loss ×1.44: from step 60 it overflows after about ln(1.8e308/L)/ln 1.44 steps
    double loss = Math.pow(10 * Math.pow(1.2, 59), 2);
    double exact = Math.log(Double.MAX_VALUE / loss) / Math.log(1.44);
    assertEquals(exact, left, exact * 0.1);
  }

  @Test
  void theAdviceFollowsTheRun() {
    // the run: "overflows in about 1914 steps", computed at step 21, was still shown at step 400 (loss 1.5e65)
    Trainer t = new Trainer(RunSpec.parse(sgd(1.1)));
    Diagnoser d = new Diagnoser();
    List<Diagnoser.Change> changes = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      t.step();
      changes.add(d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency()));
    }
    Diagnosis last = d.current();
    assertEquals(Verdict.DIVERGING, last.verdict());
    assertEquals(21, last.sinceStep(), "the same verdict since");
    long left = Long.parseLong(last.advice().replaceAll(".*about (\\d+) steps.*", "$1"));
    double exact = Math.log(Double.MAX_VALUE / t.loss()) / Math.log(1.44);   // about 1534 from step 400
    assertEquals(exact, left, exact * 0.05, last.advice());
    double quoted = Double.parseDouble(last.evidence().replaceAll(".*, now ([^,]+), .*", "$1"));
    assertTrue(quoted <= t.loss() && quoted >= t.loss() / Math.pow(1.44, Diagnoser.WINDOW), "the loss quoted now: " + quoted);
    // one piece of news (unknown → diverging), then a refresh once a window: no alert for a refresh
    assertEquals(1, changes.stream().filter(c -> c == Diagnoser.Change.CHANGED).count());
    assertEquals(Diagnoser.Change.CHANGED, changes.get(20));
    long refreshed = changes.stream().filter(c -> c == Diagnoser.Change.REFRESHED).count();
    assertTrue(refreshed >= 15 && refreshed <= 400 / Diagnoser.WINDOW, "refreshed " + refreshed + " times");
  }

  @Test
  void anAbsurdOverflowEstimateIsNeverPrinted() {
    // a loss at exactly 0, then doubling: its growth over the window is infinite while the window still holds the 0
    Diagnoser d = new Diagnoser();
    boolean estimated = false;
    for (int s = 1; s <= 90; s++) {
      double loss = s <= 30 ? 0 : Math.pow(2, s - 30);
      d.observe(s, loss, 0.5, 1, Double.NaN, Double.NaN);
      Diagnosis now = d.current();
      String text = now.advice() + " " + now.evidence();
      assertFalse(text.contains(String.valueOf(Long.MAX_VALUE)) || text.contains("Infinity") || text.contains("NaN"),
          "step " + s + ": " + text);
      if (text.contains("overflows in about")) {
        long left = Long.parseLong(now.advice().replaceAll(".*about (\\d+) steps.*", "$1"));
        assertTrue(left >= 1 && left <= Diagnoser.MAX_OVERFLOW_STEPS, text);
        assertEquals(Math.log(Double.MAX_VALUE / loss) / Math.log(2), left, 25, text);
        estimated = true;
      }
    }
    assertEquals(Verdict.DIVERGING, d.current().verdict());
    assertTrue(estimated, "once the window is past the 0, the steady ×2 is extrapolated");
    // and no textbook run ever prints one
    for (double lr : new double[] {1.1, 2.0, 3.0}) {
      for (Diagnosis x : diagnose(sgd(lr), 400)) {
        if (x.advice() == null || !x.advice().contains("about")) continue;
        long left = Long.parseLong(x.advice().replaceAll(".*about (\\d+) steps.*", "$1"));
        assertTrue(left >= 1 && left <= Diagnoser.MAX_OVERFLOW_STEPS, x.advice());
      }
    }
  }

  @Test
  void numbersAreRoundedAsTheirExactBinaryValueIsEvenAtTies() {
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 100_000; i++) {
      // ties at the rounded digit (x.5 decimals, whose binary value is a little under or over), and any number
      double v = i % 2 == 0 ? (r.nextInt(200_000) + 0.5) / Math.pow(10, r.nextInt(12)) : Math.pow(10, r.nextDouble() * 24 - 12);
      for (int digits : new int[] {3, 12}) {
        java.math.BigDecimal exact = new java.math.BigDecimal(v).round(new java.math.MathContext(digits));
        assertEquals(0, exact.compareTo(Diagnoser.rounded(v, digits)), v + " to " + digits + " digits");
      }
    }
    assertEquals("0.123", Diagnoser.fmt(0.1235));   // 0.12349999… in binary
    assertEquals("1", Diagnoser.fmt(1.005));        // 1.00499999…: 1.00
  }

  @Test
  void aRunThatEndedTrainingWellIsNotToldToTryAgain() {
    // a guard rescued it from a blow-up at 0.05 and it trained on: "run again" avoids 0.05, the text says nothing
    Diagnosis ended = new Diagnosis(Verdict.CONVERGING, "keep the lr", Double.NaN, 300, "the loss falls")
        .ended(3000, "finished", 0.005);
    assertEquals("the run ended at step 3000 (finished)", ended.advice());
    assertEquals(0.005, ended.retryLr());
  }

  @Test
  void anEndedRunKeepsItsVerdictWithoutAdvice() {
    Trainer t = new Trainer(RunSpec.parse(sgd(1.1)));
    Diagnoser d = new Diagnoser();
    for (int i = 0; i < 40; i++) {
      t.step();
      d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
    }
    Diagnosis live = d.current();
    d.end(40, "stopped");
    Diagnosis ended = d.current();
    assertEquals(Verdict.DIVERGING, ended.verdict());
    assertEquals(live.sinceStep(), ended.sinceStep());
    assertEquals(live.evidence(), ended.evidence());
    assertFalse(ended.hasAdvice(), "no advice for a run that cannot change");
    assertEquals(0.11, ended.retryLr());
    assertEquals("the run ended at step 40 (stopped); to try again, start a new run with lr 0.11", ended.advice());
    assertEquals(Diagnoser.Change.NONE, d.observe(41, 1e30, 1.1, 1, Double.NaN, Double.NaN));
    d.reset();   // an lr change a script acknowledges after the stop
    assertEquals(ended, d.current(), "an ended run's diagnosis stays");
    d.startOver();
    assertEquals(Diagnosis.UNKNOWN, d.current());
    // a verdict without advice ends without one too
    Diagnoser right = new Diagnoser();
    for (int s = 1; s <= 30; s++) right.observe(s, 1.0 / s, 0.1, 1, Double.NaN, Double.NaN);
    right.end(30, "finished");
    assertEquals("the run ended at step 30 (finished)", right.current().advice());
    assertTrue(Double.isNaN(right.current().retryLr()));
  }

  @Test
  void aNonFiniteLossIsFlaggedAtTheStepItAppears() {
    Diagnoser d = new Diagnoser();
    for (int s = 1; s <= 30; s++) d.observe(s, 1.0 / s, 0.1, 1, Double.NaN, Double.NaN);
    assertEquals(Diagnoser.Change.CHANGED, d.observe(31, Double.NaN, 0.1, 1, Double.NaN, Double.NaN));
    assertEquals(Verdict.NON_FINITE, d.current().verdict());
    assertEquals(31, d.current().sinceStep());
  }

  @Test
  void aNoisyMinibatchLossDoesNotFlap() {
    List<Diagnosis> ds = diagnose("{\"problem\":{\"type\":\"mlp\",\"hidden\":16,\"batch_size\":32},"
        + "\"optimizer\":{\"type\":\"sgd\",\"lr\":0.05},\"steps\":3000}", 3000);
    assertTrue(changes(ds, 100) <= 4, "verdict changes after step 100: " + changes(ds, 100) + " " + timeline(ds));
    assertTrue(ds.stream().noneMatch(d -> d.verdict() == Verdict.DIVERGING || d.verdict() == Verdict.NON_FINITE),
        timeline(ds));
  }

  @Test
  void aNoisyLossThatBlowsUpAndLevelsOffIsDivergingUntilItFalls() {
    // a script's minibatch loss: noisy around 1.5, then ×20 within 30 steps, then level (half its steps down)
    java.util.Random r = new java.util.Random(7);
    Diagnoser d = new Diagnoser();
    long flagged = -1;
    for (int s = 1; s <= 400; s++) {
      double level = s < 100 ? 1.5 : s < 130 ? 1.5 * Math.pow(20, (s - 100) / 30.0) : 30;
      d.observe(s, level * (0.6 + 0.8 * r.nextDouble()), 2.0, 3.0, Double.NaN, Double.NaN);
      if (flagged < 0 && d.current().verdict() == Verdict.DIVERGING) flagged = s;
    }
    assertTrue(flagged > 100 && flagged < 140, "flagged while it blew up, at step " + flagged);
    Diagnosis last = d.current();
    assertEquals(Verdict.DIVERGING, last.verdict(), "still ×20 its minimum: " + last.evidence());
    assertEquals(0.2, last.suggestedLr());
    for (int s = 401; s <= 600; s++) d.observe(s, 30 * Math.pow(0.98, s - 400) * (0.6 + 0.8 * r.nextDouble()), 0.2, 1, Double.NaN, Double.NaN);
    assertEquals(Verdict.CONVERGING, d.current().verdict(), "falling again after the cut: " + d.current().evidence());
  }

  @Test
  void warmupIsNotDivergence() {
    List<Diagnosis> ds = diagnose("{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1.0},"
        + "\"schedule\":{\"type\":\"warmup_cosine\",\"warmup_steps\":200},\"steps\":1000}", 1000);
    assertTrue(ds.stream().noneMatch(d -> d.verdict() == Verdict.DIVERGING), timeline(ds));
  }

  @Test
  void oneCycleIsNotDivergence() {
    List<Diagnosis> ds = diagnose("{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1,\"momentum\":0.9},"
        + "\"schedule\":{\"type\":\"onecycle\",\"max_lr\":1.0},\"steps\":1000}", 1000);
    assertTrue(ds.stream().noneMatch(d -> d.verdict() == Verdict.DIVERGING), timeline(ds));
  }

  @Test
  void aPlateauWithAVanishingGradientIsConvergedNotSlow() {
    Diagnoser d = new Diagnoser();
    for (int s = 1; s <= 300; s++) {
      double loss = 0.5 + Math.exp(-s / 10.0);
      double grad = Math.exp(-s / 10.0);
      d.observe(s, loss, 0.1, grad, 0.99, 1.0);
    }
    assertEquals(Verdict.CONVERGED, d.current().verdict(), d.current().evidence());
  }

  @Test
  void reduceOnPlateauEndsConvergedOrConverging() {
    List<Diagnosis> ds = diagnose("{\"problem\":\"linreg\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.05},"
        + "\"schedule\":{\"type\":\"plateau\",\"patience\":5,\"threshold\":0.001},\"steps\":2000}", 2000);
    Verdict last = ds.get(1999).verdict();
    assertTrue(last == Verdict.CONVERGED || last == Verdict.CONVERGING, timeline(ds));
    assertTrue(ds.stream().noneMatch(d -> d.verdict() == Verdict.DIVERGING), timeline(ds));
  }

  /** Verdict changes as "step:verdict", for messages. */
  static String timeline(List<Diagnosis> ds) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < ds.size(); i++) {
      if (i == 0 || ds.get(i).verdict() != ds.get(i - 1).verdict()) b.append(i + 1).append(':').append(ds.get(i).verdict().label()).append(' ');
    }
    return b.toString();
  }

  @Test
  void anLrChangeKeepsTheEpisodeARewindStartsANewOne() {
    // x² at lr 1.1 diverges; the lr is cut (the advice applied) and it still diverges: the same episode, no news
    Diagnoser d = new Diagnoser();
    List<Diagnoser.Change> changes = new ArrayList<>();
    List<Diagnosis> ds = new ArrayList<>();
    double x = 10;
    for (int s = 1; s <= 120; s++) {
      double lr = s <= 30 ? 1.1 : 1.05;
      if (s == 31) d.lrChanged(31, 1.1, 1.05, false);
      if (s == 80) d.rewound();
      changes.add(d.observe(s, x * x, lr, 2 * Math.abs(x), Double.NaN, Double.NaN));
      ds.add(d.current());
      x *= 1 - 2 * lr;
    }
    assertEquals(Verdict.DIVERGING, d.current().verdict());
    // diverging at 21 (news), again after the lr change at 31 (the same episode), and again after the rewind (news)
    assertEquals(List.of(21L, 100L), java.util.stream.IntStream.range(0, changes.size())
        .filter(i -> changes.get(i) == Diagnoser.Change.CHANGED).mapToObj(i -> i + 1L).toList());
    assertEquals(2, d.episode());
    assertEquals(Verdict.DIVERGING, ds.get(50).verdict(), "seen again at step 51, after the lr change");
    assertEquals(0.105, ds.get(50).suggestedLr());
    assertEquals(1.05, d.failed().ceiling(), "the memory outlives the rewind");
  }

  @Test
  void theGuardFiresOnDeadAndGoesBackBeforeTheBlowUp() {
    io.losswatch.core.policy.Guardian g = new io.losswatch.core.policy.Guardian(
        new io.losswatch.core.Guard(java.util.Set.of("dead"), 50, 0.1, 3), 0);
    assertEquals("dead", g.trigger(2.3, 0.1, Verdict.DIVERGING, Verdict.DEAD));
    assertEquals(null, g.trigger(2.3, 0.1, Verdict.DEAD, Verdict.DEAD), "once, as it becomes dead");
    assertEquals(null, g.trigger(2.3, 0.1, Verdict.CONVERGING, Verdict.DIVERGING), "not watched for");
    assertEquals(8, g.targetStep(140, 9), "before the blow-up at step 9");
    assertEquals(90, g.targetStep(140, -1), "rewind steps back");
    assertEquals(0, g.targetStep(30, -1));
  }
}
