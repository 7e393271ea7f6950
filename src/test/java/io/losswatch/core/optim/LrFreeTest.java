package io.losswatch.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.state.State;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The learning-rate-free optimizers beyond their golden trajectories (GoldenTest holds them to their authors' code):
 * the step they report, their lazily taken first point in a snapshot, Schedule-Free's eval/train swap, a zero
 * gradient, and their options' checks.
 */
class LrFreeTest {
  static final List<String> TYPES = List.of("prodigy", "dadapt_adam", "dadapt_sgd", "schedulefree_adamw", "schedulefree_sgd");

  private static Trainer trainer(String problem, String optimizer, int steps) {
    return new Trainer(RunSpec.parse("{\"problem\":" + problem + ",\"optimizer\":" + optimizer + ",\"steps\":" + steps + "}"));
  }

  @Test
  void onlyTheLearningRateFreeOnesSetTheirOwnStep() {
    for (String type : Optimizers.TYPES) {
      Optimizer.Config c = RunSpec.parse("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"" + type
          + "\",\"lr\":0.1},\"steps\":1}").optimizer();
      assertEquals(TYPES.contains(type), c.setsOwnStep(), type);
    }
  }

  @Test
  void anExternalRunsOptimizerIsKnownByItsAuthorsClassName() {
    for (String type : List.of("prodigy", "dadaptadam", "dadaptsgd", "adamwschedulefree", "sgdschedulefreereference",
        "radamschedulefree", "schedulefree_adamw", "dadapt_sgd")) {
      assertTrue(RunSpec.parse("{\"source\":\"external\",\"optimizer\":{\"type\":\"" + type + "\"}}").setsOwnStep(), type);
    }
    for (String type : List.of("adamw", "sgd", "adam", "lion", "unknown")) {
      assertFalse(RunSpec.parse("{\"source\":\"external\",\"optimizer\":{\"type\":\"" + type + "\"}}").setsOwnStep(), type);
    }
    assertFalse(RunSpec.parse("{\"source\":\"external\"}").setsOwnStep());
    assertTrue(RunSpec.parse("{\"problem\":\"quadratic\",\"optimizer\":\"prodigy\",\"steps\":1}").setsOwnStep());
  }

  /** The lr column is the step taken: d·lr grows from d0·lr as d adapts, and lr alone scales it. */
  @Test
  void dAdaptationAndProdigyReportDTimesLrAsDGrows() {
    for (String type : List.of("prodigy", "dadapt_adam")) {
      Trainer one = trainer("\"logreg\"", "{\"type\":\"" + type + "\"}", 100);
      Trainer half = trainer("\"logreg\"", "{\"type\":\"" + type + "\",\"lr\":0.5}", 100);
      one.step();
      half.step();
      assertEquals(1e-6, one.lr(), type + ": d0·lr at the first step");
      assertEquals(0.5e-6, half.lr(), type);
      for (int i = 0; i < 60; i++) one.step();
      assertTrue(one.lr() > 1e-3, type + " found a step a thousand times d0: " + one.lr());
      assertEquals(1.0, one.nextLr(), type + ": the lr a person sets stays the multiplier");
    }
  }

  @Test
  void dAdaptSgdReportsItsStepOnTheGradient() {
    Trainer t = trainer("{\"type\":\"quadratic\",\"x0\":[3.0,-4.0]}", "{\"type\":\"dadapt_sgd\"}", 10);
    t.step();
    assertEquals(1e-6 / 10, t.lr(), 1e-22, "d0·lr/‖g0‖, ‖g0‖ = ‖2·x0‖ = 10");
  }

  @Test
  void scheduleFreeReportsItsWarmedUpLr() {
    Trainer t = trainer("\"ellipse\"", "{\"type\":\"schedulefree_sgd\",\"lr\":0.2,\"warmup_steps\":4}", 10);
    double[] want = {0.05, 0.1, 0.15, 0.2, 0.2};
    for (double w : want) {
      t.step();
      assertEquals(w, t.lr(), 1e-15);
    }
  }

  /** The first point (Prodigy's p0, D-Adapt SGD's x0, Schedule-Free's x, y, z) is taken at the first step: a snapshot before it holds none yet. */
  @ParameterizedTest
  @ValueSource(strings = {"prodigy", "dadapt_adam", "dadapt_sgd", "schedulefree_adamw", "schedulefree_sgd"})
  void aSnapshotBeforeTheFirstStepAndAfterItContinuesBitForBit(String type) {
    for (int at : new int[] {0, 1, 2}) {
      Trainer a = trainer("\"logreg\"", "{\"type\":\"" + type + "\"}", 100);
      for (int i = 0; i < at; i++) a.step();
      Trainer b = new Trainer(a.spec(), State.fromBytes(a.state().toBytes()));
      for (int i = 0; i < 30; i++) {
        a.step();
        b.step();
        assertEquals(Double.doubleToRawLongBits(a.loss()), Double.doubleToRawLongBits(b.loss()), type + " from " + at);
        assertEquals(Double.doubleToRawLongBits(a.lr()), Double.doubleToRawLongBits(b.lr()), type + " from " + at);
      }
      assertArrayEquals(a.params(), b.params(), type);
    }
  }

  /** eval() puts the parameters at the average x, train() back at y, and the swap is in the state. */
  @Test
  void scheduleFreeSwapsToTheAverageAndBackAndKeepsTheSwapInItsState() {
    ScheduleFreeAdamW.Config c = (ScheduleFreeAdamW.Config) RunSpec.parse(
        "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"schedulefree_adamw\",\"lr\":0.1},\"steps\":1}").optimizer();
    ScheduleFreeAdamW opt = (ScheduleFreeAdamW) c.create(2);
    double[] p = {3, -2};
    double[] g = new double[2];
    for (int i = 0; i < 20; i++) {
      g[0] = 2 * p[0];
      g[1] = 2 * p[1];
      opt.step(p, g);
    }
    double[] y = p.clone();
    opt.eval(p);
    double[] x = p.clone();
    assertFalse(java.util.Arrays.equals(x, y), "x, the average, lags y");
    assertTrue(Math.abs(x[0]) > Math.abs(y[0]), "on x² the average lags behind y, nearer the start: " + x[0] + " vs " + y[0]);
    opt.eval(p);
    assertArrayEquals(x, p, "eval twice stays at x");
    assertThrows(IllegalStateException.class, () -> opt.step(p, g), "the authors' code refuses a step in eval mode");

    ScheduleFreeAdamW copy = (ScheduleFreeAdamW) c.create(2);
    copy.load(State.fromBytes(opt.state().toBytes()));
    double[] q = x.clone();
    assertThrows(IllegalStateException.class, () -> copy.step(q, g), "the copy is in eval mode too");
    copy.train(q);
    opt.train(p);
    assertArrayEquals(y, p, "train() goes back to y");
    assertArrayEquals(y, q);
    for (int i = 0; i < 10; i++) {
      g[0] = 2 * p[0];
      g[1] = 2 * p[1];
      opt.step(p, g);
      copy.step(q, g);
    }
    assertArrayEquals(p, q);
  }

  /** Where the authors' code divides by a zero first gradient (D-Adapt SGD) or returns early, nothing moves and nothing is NaN. */
  @ParameterizedTest
  @ValueSource(strings = {"prodigy", "dadapt_adam", "dadapt_sgd", "schedulefree_adamw", "schedulefree_sgd"})
  void aZeroGradientMovesNothing(String type) {
    Trainer t = trainer("{\"type\":\"quadratic\",\"x0\":[0.0,0.0]}", "{\"type\":\"" + type + "\"}", 10);
    for (int i = 0; i < 5; i++) {
      t.step();
      assertEquals(0.0, t.loss(), type);
      assertFalse(Double.isNaN(t.lr()), type + ": lr " + t.lr());
    }
    assertArrayEquals(new double[] {0, 0}, t.params(), type);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{'type':'prodigy','beta3':1.0}                | optimizer.beta3              | must be in [0, 1), got 1",
      "{'type':'prodigy','d0':0}                     | optimizer.d0                 | must be > 0, got 0",
      "{'type':'prodigy','slice_p':0}                | optimizer.slice_p            | must be >= 1, got 0",
      "{'type':'prodigy','fsdp_in_use':true}         | optimizer.fsdp_in_use        | unknown key for prodigy",
      "{'type':'dadapt_adam','growth_rate':0.5}      | optimizer.growth_rate        | must be >= 1, got 0.5",
      "{'type':'dadapt_adam','eps':0}                | optimizer.eps                | must be > 0, got 0",
      "{'type':'dadapt_sgd','momentum':1}            | optimizer.momentum           | must be in [0, 1), got 1",
      "{'type':'schedulefree_adamw','warmup_steps':1.5} | optimizer.warmup_steps    | must be an integer, got 1.5",
      "{'type':'schedulefree_sgd','momentum':0}      | optimizer.momentum           | must be in (0, 1), got 0",
  })
  void badOptionsAreRefusedNamingTheField(String optimizer, String field, String message) {
    SpecException e = assertThrows(SpecException.class, () -> RunSpec.parse(("{'problem':'quadratic','optimizer':"
        + optimizer + ",'steps':10}").replace('\'', '"')));
    assertEquals(field, e.field());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }
}
