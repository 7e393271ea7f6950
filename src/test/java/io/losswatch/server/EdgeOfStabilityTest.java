package io.losswatch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gallery's edge-of-stability runs do what their name says: full-batch gradient descent drives the sharpness to
 * 2/lr, and over the second half of each run it stays within 10% of it (Cohen et al., https://arxiv.org/abs/2103.00065).
 */
class EdgeOfStabilityTest {
  @Test
  void theSharpnessHoversAt2OverLrForMostLateSteps() {
    // sampled every 50 steps, not the gallery's 20, to spare the test's time: measuring moves no run
    List<RunSpec> eos = Demo.specs().stream().filter(s -> s.contains("edge of stability"))
        .map(s -> RunSpec.parse(s.replace("\"curvature_every\":" + Demo.EOS_CURVATURE_EVERY, "\"curvature_every\":50")))
        .toList();
    assertEquals(3, eos.size());
    for (RunSpec spec : eos) {
      Trainer t = new Trainer(spec);
      double edge = 2 / spec.lr();
      int late = 0;
      int near = 0;
      double first = Double.NaN;
      for (int i = 1; i <= spec.steps(); i++) {
        t.step();
        if (Double.isNaN(t.sharpness())) continue;
        if (Double.isNaN(first)) first = t.sharpness();
        assertEquals(t.lr() * t.sharpness() / 2, t.stability(), 1e-12);
        if (i > spec.steps() / 2) {
          late++;
          if (Math.abs(t.sharpness() - edge) <= 0.1 * edge) near++;
        }
      }
      System.out.printf("%s: sharpness %.3f at step %d; late steps within 10%% of 2/lr = %.3f: %d of %d%n", spec.name(),
          first, spec.curvatureEvery(), edge, near, late);
      assertTrue(near >= 0.8 * late, spec.name() + ": " + near + " of " + late + " late measurements within 10% of " + edge);
    }
  }
}
