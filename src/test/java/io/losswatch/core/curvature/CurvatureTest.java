package io.losswatch.core.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Schema;
import io.losswatch.core.Trainer;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.optim.Optimizers;
import io.losswatch.core.problem.LinearRegression;
import io.losswatch.core.problem.Problem;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The sharpness and stability a Trainer reports, and what measuring them must not touch. */
class CurvatureTest {
  private static Trainer trainer(String body) {
    return new Trainer(RunSpec.parse(("{" + body + "}").replace('\'', '"')));
  }

  /** The seed's example: x² has curvature 2 everywhere, so lr·2/2 = lr says how far each lr is from the edge. */
  @ParameterizedTest
  @ValueSource(doubles = {0.1, 0.9, 1.1})
  void onXSquaredTheSharpnessIs2AndTheStabilityTheLr(double lr) {
    Trainer t = trainer("'problem':'quadratic','optimizer':{'type':'sgd','lr':" + lr + "},'steps':20,'curvature_every':1");
    for (int i = 0; i < 20; i++) {
      t.step();
      assertEquals(2, t.sharpness(), 1e-6);
      assertEquals(2, t.threshold(), 0.0);
      assertEquals(lr, t.stability(), 1e-6);
      assertFalse(t.preconditioned());
    }
  }

  /**
   * The thresholds, derived in {@link Curvature}, held to what a heavy ball actually does on x²: 2% under the
   * threshold the error dies away, 2% over it grows.
   */
  @ParameterizedTest
  @CsvSource({
      "0, 0, false, 2",
      "0.9, 0, false, 3.8",
      "0.5, 0.3, false, 4.285714285714286",
      "0.9, 0, true, 1.3571428571428572",
      "0.3, 0, true, 1.625"})
  void sgdThresholdsHoldOnXSquared(double momentum, double dampening, boolean nesterov, double threshold) {
    for (double side : new double[] {0.98, 1.02}) {
      double lr = side * threshold / 2;
      Trainer t = trainer("'problem':{'type':'quadratic','x0':[1]},'optimizer':{'type':'sgd','lr':" + lr + ",'momentum':"
          + momentum + ",'dampening':" + dampening + ",'nesterov':" + nesterov + "},'steps':3000,'curvature_every':100");
      for (int i = 0; i < 3000; i++) t.step();
      assertEquals(threshold, t.threshold(), 1e-12);
      assertEquals(side, t.stability(), 1e-9);
      double x = Math.abs(t.params()[0]);
      if (side < 1) assertTrue(x < 1e-6, "lr " + lr + " under the threshold: |x| " + x);
      else assertTrue(x > 1e6, "lr " + lr + " over the threshold: |x| " + x);
    }
  }

  @Test
  void adaptiveOptimizersReportTheirThresholdAndArePreconditioned() {
    Trainer adam = trainer("'problem':'logreg','optimizer':{'type':'adam','lr':0.01},'steps':5,'curvature_every':1");
    adam.step();
    assertTrue(adam.preconditioned());
    assertEquals(38, adam.threshold(), 1e-12);
    Trainer betas = trainer("'problem':'logreg','optimizer':{'type':'adamw','betas':[0.5,0.99]},'steps':5,'curvature_every':1");
    betas.step();
    assertEquals(6, betas.threshold(), 1e-12);
    Trainer rms = trainer("'problem':'logreg','optimizer':{'type':'rmsprop','momentum':0.5},'steps':5,'curvature_every':1");
    rms.step();
    assertEquals(3, rms.threshold(), 0.0);
    Trainer adagrad = trainer("'problem':'logreg','optimizer':{'type':'adagrad','lr_decay':0.1},'steps':5,'curvature_every':1");
    for (int i = 1; i <= 3; i++) {
      adagrad.step();
      assertEquals(2 * (1 + (i - 1) * 0.1), adagrad.threshold(), 1e-12, "step " + i);
      assertEquals(adagrad.lr() * adagrad.sharpness() / adagrad.threshold(), adagrad.stability(), 0.0);
    }
    assertTrue(adagrad.preconditioned());
  }

  @Test
  void measuredEveryKthStepAndNaNBetween() {
    Trainer t = trainer("'problem':'ellipse','optimizer':{'type':'sgd','lr':0.3},'steps':20,'curvature_every':5");
    for (int i = 1; i <= 20; i++) {
      t.step();
      if (i % 5 == 0) {
        assertEquals(4, t.sharpness(), 1e-12, "step " + i);
        assertEquals(0.6, t.stability(), 1e-12);
      } else {
        assertTrue(Double.isNaN(t.sharpness()) && Double.isNaN(t.stability()) && Double.isNaN(t.threshold()), "step " + i);
      }
    }
  }

  /** Measuring must not move the run by a single bit: no random draw, no state changed. */
  @ParameterizedTest
  @ValueSource(strings = {
      "'problem':'logreg','optimizer':{'type':'adam','lr':0.05,'amsgrad':true},'schedule':{'type':'onecycle','max_lr':0.1}",
      "'problem':'rosenbrock','optimizer':{'type':'sgd','lr':0.001,'momentum':0.9,'nesterov':true}",
      "'problem':{'type':'mlp','hidden':8,'batch_size':32,'seed':2},'optimizer':{'type':'rmsprop','centered':true}",
      "'problem':{'type':'mlp','hidden':4,'batch_size':100},'optimizer':{'type':'adagrad','lr_decay':0.01}",
      "'problem':'softmax','optimizer':{'type':'sgd','lr':0.5},'schedule':{'type':'plateau','patience':2}"})
  void measuringChangesNothingTheTrajectoryDependsOn(String body) {
    Trainer plain = trainer(body + ",'steps':120,'curvature_every':0");
    Trainer measured = trainer(body + ",'steps':120,'curvature_every':1");
    for (int i = 0; i < 120; i++) {
      plain.step();
      measured.step();
      assertEquals(Double.doubleToRawLongBits(plain.loss()), Double.doubleToRawLongBits(measured.loss()), "step " + i);
      assertEquals(plain.lr(), measured.lr(), 0.0);
      assertEquals(plain.gradNorm(), measured.gradNorm(), 0.0);
      assertTrue(Double.isFinite(measured.sharpness()), "step " + i + ": " + measured.sharpness());
    }
    assertArrayEquals(plain.params(), measured.params(), 0.0);
  }

  @Test
  void aStepTakenInPartsEqualsOneTakenWhole() {
    String body = "'problem':{'type':'mlp','hidden':8,'batch_size':64},'optimizer':{'type':'adam','lr':0.01},"
        + "'steps':30,'curvature_every':3";
    Trainer whole = trainer(body);
    Trainer parts = trainer(body);
    int unfinished = 0;
    for (int i = 1; i <= 30; i++) {
      whole.step();
      while (!parts.step(1)) {
        unfinished++;
        assertEquals(i - 1, parts.stepsTaken(), "a step counts once its measurement is done");
        assertThrows(IllegalStateException.class, parts::state);
      }
      assertEquals(whole.stepsTaken(), parts.stepsTaken());
      assertEquals(Double.doubleToRawLongBits(whole.sharpness()), Double.doubleToRawLongBits(parts.sharpness()), "step " + i);
      assertEquals(whole.loss(), parts.loss(), 0.0);
    }
    assertTrue(unfinished > 10, "measurements were taken in parts: " + unfinished);
    assertArrayEquals(whole.params(), parts.params(), 0.0);
    assertThrows(IllegalArgumentException.class, () -> parts.step(0));
  }

  @Test
  void aForkMeasuresAsTheRunWouldBitForBit() {
    String body = "'problem':{'type':'mlp','hidden':8},'optimizer':{'type':'sgd','lr':0.5},'steps':40,'curvature_every':4";
    Trainer run = trainer(body);
    for (int i = 0; i < 12; i++) run.step();
    Trainer fork = run.fork();
    assertEquals(run.sharpness(), fork.sharpness(), 0.0, "the last step's measurement comes along");
    for (int i = 0; i < 12; i++) {
      run.step();
      fork.step();
      assertEquals(Double.doubleToRawLongBits(run.sharpness()), Double.doubleToRawLongBits(fork.sharpness()));
    }
    // a state saved without any curvature (curvature_every 0) still loads: the warm start begins afresh
    Trainer cold = trainer(body.replace("'curvature_every':4", "'curvature_every':0"));
    for (int i = 0; i < 3; i++) cold.step();
    Trainer resumed = new Trainer(run.spec(), cold.state());
    resumed.step();
    assertTrue(resumed.sharpness() > 0);
  }

  @Test
  void aConstantHessianIsMeasuredOnceUnlessPreconditioned() {
    Problem p = new LinearRegression.Config().create();
    Curvature c = new Curvature(p, Optimizers.read(Options.of("optimizer", Json.parse("{\"type\":\"sgd\",\"lr\":0.1}")))
        .create(p.dimension()));
    double first = c.measure(p.initialParams());
    assertTrue(c.products() > 1);
    double[] elsewhere = p.initialParams();
    elsewhere[0] = 3;
    assertEquals(first, c.measure(elsewhere), 0.0);
    assertEquals(0, c.products());
    Curvature copy = new Curvature(p, Optimizers.read(Options.of("optimizer", Json.parse("{\"type\":\"sgd\",\"lr\":0.1}")))
        .create(p.dimension()));
    copy.load(c.state());
    assertEquals(first, copy.measure(elsewhere), 0.0, "a copy takes the value with it, bit for bit");
    // preconditioned, P changes from step to step: measured every time
    Trainer adam = trainer("'problem':'ellipse','optimizer':{'type':'adam','lr':0.1},'steps':9,'curvature_every':3");
    double[] seen = new double[3];
    for (int i = 1; i <= 9; i++) {
      adam.step();
      if (i % 3 == 0) seen[i / 3 - 1] = adam.sharpness();
    }
    assertTrue(seen[0] != seen[1] && seen[1] != seen[2], java.util.Arrays.toString(seen));
  }

  @Test
  void aDivergedRunReportsNaNAndGoesOn() {
    Trainer t = trainer("'problem':'rosenbrock','optimizer':{'type':'sgd','lr':0.01},'steps':30,'curvature_every':1");
    for (int i = 0; i < 30; i++) t.step();
    assertTrue(Double.isNaN(t.loss()), "the run went to NaN");
    assertTrue(Double.isNaN(t.sharpness()));
  }

  @Test
  void curvatureEveryIsARunSpecOption() {
    String base = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10";
    assertEquals(RunSpec.DEFAULT_CURVATURE_EVERY, RunSpec.parse(base + "}").curvatureEvery());
    assertEquals(0, RunSpec.parse(base + ",\"curvature_every\":0}").curvatureEvery());
    SpecException e = assertThrows(SpecException.class, () -> RunSpec.parse(base + ",\"curvature_every\":-1}"));
    assertTrue(e.getMessage().contains("curvature_every") && e.getMessage().contains("-1"), e.getMessage());
    e = assertThrows(SpecException.class, () -> RunSpec.parse(base + ",\"curvature_every\":2.5}"));
    assertTrue(e.getMessage().contains("curvature_every"), e.getMessage());
    assertEquals(0, RunSpec.parse("{\"source\":\"external\"}").curvatureEvery(), "a script measures for itself");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> run = (List<Map<String, Object>>) Schema.runSpec().get("run");
    Map<String, Object> option = run.stream().filter(o -> o.get("name").equals("curvature_every")).findFirst().orElseThrow();
    assertEquals("integer", option.get("kind"));
    assertEquals(RunSpec.DEFAULT_CURVATURE_EVERY, option.get("default"));
  }
}
