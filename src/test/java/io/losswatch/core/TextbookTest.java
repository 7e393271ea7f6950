package io.losswatch.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The textbook case: f(x) = x² from x = 10 with plain SGD, at four learning rates. */
class TextbookTest {
  private static Trainer sgd(double lr) {
    return new Trainer(RunSpec.parse(
        "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":" + lr + "},\"steps\":200}"));
  }

  private static double x(Trainer t) {
    return t.params()[0];
  }

  @Test @DisplayName("lr 0.1 gets within 0.05 of the minimum in at most 30 steps")
  void justRight() {
    Trainer t = sgd(0.1);
    int steps = 0;
    while (Math.abs(x(t)) > 0.05) {
      t.step();
      steps++;
      assertTrue(steps <= 30, "still at x=" + x(t) + " after 30 steps");
    }
  }

  @Test @DisplayName("lr 0.001 creeps: more than 5 away after 200 steps")
  void tooSmall() {
    Trainer t = sgd(0.001);
    for (int i = 0; i < 200; i++) t.step();
    assertTrue(Math.abs(x(t)) > 5, "x=" + x(t));
    assertTrue(x(t) < 10, "it does move: x=" + x(t));
  }

  @Test @DisplayName("lr 0.9 overshoots, x changing sign every step, and still converges")
  void overshoots() {
    Trainer t = sgd(0.9);
    double prev = x(t);
    for (int i = 0; i < 200; i++) {
      t.step();
      assertTrue(Math.signum(x(t)) == -Math.signum(prev), "step " + (i + 1) + ": x=" + x(t) + " after " + prev);
      assertTrue(Math.abs(x(t)) < Math.abs(prev));
      prev = x(t);
    }
    assertTrue(Math.abs(x(t)) < 1e-12, "x=" + x(t));
  }

  @Test @DisplayName("lr 1.1 spirals outward without bound")
  void diverges() {
    Trainer t = sgd(1.1);
    double prev = Math.abs(x(t));
    for (int i = 0; i < 200; i++) {
      t.step();
      assertTrue(Math.abs(x(t)) > prev, "|x| must grow every step");
      prev = Math.abs(x(t));
    }
    assertTrue(prev > 1e15, "|x|=" + prev);
    assertEquals(t.loss(), Math.pow(10 * Math.pow(1.2, 199), 2), t.loss() * 1e-9, "loss at step 200 is x_199²");
  }
}
