package io.losswatch.core.diagnosis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 23: a measured stability ratio (lr × sharpness ÷ the limit) in the diagnosis's evidence, and nowhere else. */
class DiagnoserStabilityTest {
  /** x² by plain gradient descent: sharpness 2, limit 2/lr, so the stability is the lr itself. */
  static String x2(double lr, int curvatureEvery) {
    return "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":" + lr + "},\"steps\":1000,"
        + "\"curvature_every\":" + curvatureEvery + "}";
  }

  /** The diagnosis after each step of a real run, fed its measurements as RunPolicy feeds them. */
  static List<Diagnosis> diagnose(Diagnoser d, String spec, int steps) {
    Trainer t = new Trainer(RunSpec.parse(spec));
    List<Diagnosis> out = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      t.step();
      d.curvature(t.stability());
      d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
      out.add(d.current());
    }
    return out;
  }

  @Test
  void aDivergingRunOverTheLimitSaysItOvershootsAndWhereTheCutBringsIt() {
    Diagnosis d = diagnose(new Diagnoser(), x2(1.1, 5), 60).get(59);
    assertEquals(Verdict.DIVERGING, d.verdict(), d.evidence());
    assertTrue(d.evidence().endsWith("; lr × sharpness = 1.1 × the limit: steps overshoot along the sharpest direction;"
        + " ÷10 brings it to 0.11"), d.evidence());
    // evidence only: the advice is the run's without a measurement
    Diagnosis bare = DiagnoserTest.diagnose(DiagnoserTest.sgd(1.1), 60).get(59);
    assertEquals(bare.advice(), d.advice());
    assertEquals(bare.suggestedLr(), d.suggestedLr());
    assertEquals(bare.evidence(), d.evidence().substring(0, bare.evidence().length()));
  }

  @Test
  void anOscillatingRunOverTheLimitSaysSo() {
    Diagnoser dg = new Diagnoser();
    for (int i = 1; i <= 30; i++) {   // a loss that alternates up and down with no net progress: an oscillation
      if (i == 5) dg.curvature(2.2);
      dg.observe(i, i % 2 == 0 ? 1 : 1.5, 0.5, 1, -1, Double.NaN);
    }
    Diagnosis d = dg.current();
    assertEquals(Verdict.OSCILLATING, d.verdict(), d.evidence());
    assertTrue(d.evidence().endsWith("; lr × sharpness = 2.2 × the limit: steps overshoot along the sharpest direction;"
        + " ÷10 brings it to 0.22"), d.evidence());
  }

  @Test
  void aSlowRunFarUnderTheLimitSaysHowManyDecadesItHas() {
    Diagnosis d = diagnose(new Diagnoser(), x2(0.0001, 5), 200).get(199);
    assertEquals(Verdict.TOO_SLOW, d.verdict(), d.evidence());
    assertTrue(d.evidence().endsWith("; lr × sharpness = 0.0001 × the limit: room for about 4 decades more lr"), d.evidence());
    Diagnosis bare = DiagnoserTest.diagnose(DiagnoserTest.sgd(0.0001), 200).get(199);
    assertEquals(bare.advice(), d.advice(), "the advice is what it was");
    assertEquals(bare.suggestedLr(), d.suggestedLr());
  }

  @Test
  void theRoomStatedStaysHalfADecadeUnderAnLrTheRunFailedAt() {
    Diagnoser dg = new Diagnoser();
    dg.failed().add(3, 0.1, "diverged");
    Diagnosis d = diagnose(dg, x2(0.0001, 5), 200).get(199);
    assertEquals(Verdict.TOO_SLOW, d.verdict(), d.evidence());
    // 4 decades would be lr 1, 3 lr 0.1 (failed), 2 lr 0.01, a third of 0.1 and under: 2
    assertTrue(d.evidence().endsWith("; lr × sharpness = 0.0001 × the limit: room for about 2 decades more lr"
        + " (capped under lr 0.1 diverged at step 3)"), d.evidence());
    Diagnoser tight = new Diagnoser();
    tight.failed().add(3, 0.0002, "diverged");
    d = diagnose(tight, x2(0.0001, 5), 200).get(199);
    assertFalse(d.evidence().contains("room for"), d.evidence());
  }

  @Test
  void withoutAMeasurementNothingChanges() {
    for (double lr : new double[] {1.1, 0.0001, 0.9}) {
      List<Diagnosis> none = diagnose(new Diagnoser(), x2(lr, 0), 200);   // curvature not measured
      List<Diagnosis> bare = DiagnoserTest.diagnose(DiagnoserTest.sgd(lr), 200);
      assertEquals(bare, none, "lr " + lr);
      for (Diagnosis d : none) assertFalse(d.evidence().contains("lr × sharpness"), d.evidence());
    }
    Diagnoser dg = new Diagnoser();   // a limit unknown (an lr-free optimizer) or a Hessian not finite: NaN, ignored
    for (int i = 1; i <= 60; i++) {
      dg.curvature(i % 2 == 0 ? Double.NaN : Double.POSITIVE_INFINITY);
      dg.observe(i, 10 * Math.pow(1.44, i), 1.1, 1, Double.NaN, Double.NaN);
    }
    assertEquals(Verdict.DIVERGING, dg.current().verdict());
    assertFalse(dg.current().evidence().contains("lr × sharpness"), dg.current().evidence());
  }

  @Test
  void anLrChangeForgetsAMeasurementTakenAtTheOldLr() {
    Diagnoser dg = new Diagnoser();
    dg.curvature(2.2);
    assertEquals(2.2, dg.stability());
    dg.lrChanged(10, 1, 0.1, false);
    assertTrue(Double.isNaN(dg.stability()));
  }
}
