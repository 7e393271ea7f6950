package io.losswatch.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import java.io.IOException;
import java.io.StringWriter;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * An optimizer that sets its own step gets no lr factor as advice, and auto_lr changes nothing for it: its lr is a
 * multiplier of the step it finds, and the lr its steps report is that step (×10 of it would be nonsense).
 */
class SelfTuningTest {
  /** Every diagnosis shown over a run, with auto_lr on; the run must never see its lr changed. */
  private static Set<String> advice(String spec, Set<Verdict> verdicts) {
    RunSpec s = RunSpec.parse(spec);
    Trainer t = new Trainer(s);
    Diagnoser d = new Diagnoser();
    Policy p = new Policy(s, d, t, 0);
    Set<String> said = new HashSet<>();
    for (Policy.Next next = Policy.Next.STEP; next == Policy.Next.STEP; ) {
      t.step();
      Verdict before = d.current().verdict();
      d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
      next = p.afterStep(t, before);
      Diagnosis shown = p.shown();
      assertTrue(Double.isNaN(shown.suggestedLr()), "no lr is suggested: " + shown);
      assertEquals(Double.NaN, p.takeAutoLr(), "auto_lr sets nothing");
      verdicts.add(shown.verdict());
      if (shown.advice() != null) said.add(shown.advice());
      assertEquals(s.optimizer().lr(), t.nextLr(), "the multiplier stays as set");
    }
    d.end(t.stepsTaken(), "finished");
    Diagnosis ended = p.shown();
    assertTrue(Double.isNaN(ended.suggestedLr()) && Double.isNaN(ended.retryLr()), "no lr to retry with: " + ended);
    if (ended.advice() != null) said.add(ended.advice());
    return said;
  }

  @Test
  void aBlowUpAsksForASmallerStepNotAnLr() {
    Set<Verdict> verdicts = new HashSet<>();
    Set<String> said = advice("{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"prodigy\",\"lr\":100},\"steps\":300,"
        + "\"auto_lr\":true}", verdicts);
    assertTrue(verdicts.contains(Verdict.DIVERGING) || verdicts.contains(Verdict.OSCILLATING), verdicts.toString());
    assertTrue(said.contains(Diagnoser.SELF_SMALLER), said.toString());
  }

  @Test
  void aSlowRunAsksForALargerStepNotAnLr() {
    Set<Verdict> verdicts = new HashSet<>();
    Set<String> said = advice("{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"schedulefree_sgd\",\"lr\":0.001},"
        + "\"steps\":300,\"auto_lr\":true}", verdicts);
    assertTrue(verdicts.contains(Verdict.TOO_SLOW), verdicts.toString());
    assertTrue(said.contains(Diagnoser.SELF_LARGER), said.toString());
  }

  /** With auto_lr, a self-tuning run's trace is the same run as without it. */
  @Test
  void autoLrLeavesASelfTuningRunAsItIs() throws IOException {
    for (String type : new String[] {"prodigy", "dadapt_adam", "dadapt_sgd", "schedulefree_adamw", "schedulefree_sgd"}) {
      String spec = "{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"" + type + "\",\"lr\":0.01},\"steps\":400";
      StringWriter plain = new StringWriter();
      StringWriter auto = new StringWriter();
      TraceCommand.write(RunSpec.parse(spec + "}"), plain);
      TraceCommand.write(RunSpec.parse(spec + ",\"auto_lr\":true}"), auto);
      assertEquals(plain.toString(), auto.toString(), type);
    }
  }
}
