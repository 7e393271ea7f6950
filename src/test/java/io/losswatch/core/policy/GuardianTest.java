package io.losswatch.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Verdict;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A guard's rewinds, driven as trace and the run verticle drive them. */
class GuardianTest {
  /** The lr after each rewind, and how the run ended. */
  private static List<Double> rewinds(String spec, StringBuilder ended) {
    RunSpec s = RunSpec.parse(spec);
    Trainer t = new Trainer(s);
    Diagnoser d = new Diagnoser();
    Policy p = new Policy(s, d, t, 0);
    List<Double> lrs = new ArrayList<>();
    Policy.Next next = Policy.Next.STEP;
    while (next != Policy.Next.DIVERGED && next != Policy.Next.FINISHED) {
      t.step();
      Verdict before = d.current().verdict();
      d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
      next = p.afterStep(t, before);
      if (next == Policy.Next.REWIND) {
        t = p.rewind(t, p.rewindTarget(t.stepsTaken()));
        lrs.add(t.nextLr());
      }
    }
    ended.append(next).append(" at step ").append(t.stepsTaken()).append(", loss ").append(t.loss());
    return lrs;
  }

  /**
   * SGD at lr 30 on x² blows up; going back to the start ÷10 (lr 3) blows up again. The second rewind to the same
   * snapshot cuts the lr that failed, 3, not the snapshot's 30 again: lr 0.3 converges.
   */
  @Test
  void aSecondRewindToTheSameSnapshotCutsAgain() {
    StringBuilder ended = new StringBuilder();
    List<Double> lrs = rewinds("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":30},\"steps\":300,"
        + "\"guard\":{\"on\":[\"diverging\",\"non_finite\"],\"lr_factor\":0.1}}", ended);
    assertEquals(List.of(3.0, 0.3), lrs, ended.toString());
    assertTrue(ended.toString().startsWith("FINISHED"), ended.toString());
  }

  /** Under a schedule the cut scales the schedule, as /lr does: the lr after the rewind is the schedule's there ×0.1. */
  @Test
  void aRewindUnderAScheduleCutsItsScale() {
    StringBuilder ended = new StringBuilder();
    List<Double> lrs = rewinds("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":30},\"steps\":300,"
        + "\"schedule\":{\"type\":\"exponential\",\"gamma\":0.999},"
        + "\"guard\":{\"on\":[\"diverging\",\"non_finite\"],\"lr_factor\":0.1}}", ended);
    assertEquals(2, lrs.size(), ended.toString());
    assertEquals(3.0, lrs.get(0), 1e-12, "back at step 0: 30 × 0.1");
    assertEquals(0.3, lrs.get(1), 1e-12, "back at step 0 again: 30 × 0.1 × 0.1");
  }
}
