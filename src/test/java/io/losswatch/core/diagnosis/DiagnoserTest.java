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
  void textbookOvershooting() {
    List<Diagnosis> ds = diagnose(sgd(0.9), 300);
    for (int i = 30; i < 300; i++) assertEquals(Verdict.OSCILLATING, ds.get(i).verdict(), "step " + (i + 1));
    assertEquals(0.09, ds.get(299).suggestedLr());
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
  void aNonFiniteLossIsFlaggedAtTheStepItAppears() {
    Diagnoser d = new Diagnoser();
    for (int s = 1; s <= 30; s++) d.observe(s, 1.0 / s, 0.1, 1, Double.NaN, Double.NaN);
    assertTrue(d.observe(31, Double.NaN, 0.1, 1, Double.NaN, Double.NaN));
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
}
