package io.losswatch.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** LLM Foundry's loss-spike rule, and its stricter form for a script's noisy minibatch loss. */
class SpikesTest {
  /** Steps until the rule fires on {@code losses}, or -1. */
  private static int firesAt(Spikes s, double[] losses) {
    for (int i = 0; i < losses.length; i++) if (s.observe(losses[i])) return i;
    return -1;
  }

  /** A minibatch loss near 0.1 whose batches now and then run hot: 5 in a row at 3× the mean, below the window's top. */
  private static double[] noisy() {
    Random r = new Random(7);
    double[] l = new double[300];
    for (int i = 0; i < l.length; i++) l[i] = 0.1 * Math.exp(0.6 * r.nextGaussian());
    l[50] = 0.6;   // one batch far out, inside the window of what follows
    for (int i = 120; i < 125; i++) l[i] = 0.3;
    return l;
  }

  @Test
  void fiveHotBatchesInARowAreASpikeToTheLargeBatchRuleButNotToTheMinibatchOne() {
    assertEquals(124, firesAt(new Spikes(), noisy()), "over twice the mean for more than 4 steps");
    assertEquals(-1, firesAt(new Spikes(true), noisy()), "none of them passes the window's largest loss");
  }

  @Test
  void aRealBlowUpIsASpikeToBoth() {
    double[] l = noisy();
    for (int i = 200; i < 210; i++) l[i] = 5.0;
    assertTrue(firesAt(new Spikes(), l) >= 0);
    Spikes minibatch = new Spikes(true);
    assertEquals(204, firesAt(minibatch, l), "the fifth step in a row past the window's every loss");
    assertFalse(minibatch.observe(5.0), "once a spike");
  }
}
