package io.losswatch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.policy.Advisor;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Advice is a promise: every advice shown, applied at the step it was shown, does better over the horizon than
 * leaving the lr alone (checked here by running both, apart from the look-ahead that chose it), on the demo
 * gallery and on the cases where the unproven rules did harm; and auto_lr never turns a run that stays finite
 * into one that does not.
 */
class ProvenAdviceTest {
  static final List<String> CASES = List.of(
      // the issue's: ×10 here is ∞ by step 7; auto_lr diverged at step 108; auto_lr flipped 100 ↔ 10
      "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001,\"momentum\":0.9},\"steps\":1500}",
      "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.0001},\"steps\":1500}",
      "{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.01},\"steps\":1500}",
      "{\"problem\":\"ellipse\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":1500}",
      "{\"problem\":\"softmax\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.0001},\"steps\":1500}",
      "{\"problem\":{\"type\":\"mlp\",\"hidden\":8,\"batch_size\":32},\"optimizer\":{\"type\":\"sgd\",\"lr\":3},\"steps\":800}",
      "{\"problem\":\"linreg\",\"optimizer\":{\"type\":\"rmsprop\",\"lr\":0.3},\"steps\":1500}",
      "{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"sgd\",\"lr\":2},\"schedule\":{\"type\":\"cosine\",\"T_max\":600},\"steps\":600}");

  /** The mean loss over the last tenth of {@code horizon} steps of {@code t} (NaN if it goes non-finite). */
  static double ahead(Trainer t, int horizon) {
    int tail = horizon / 10;
    double sum = 0;
    for (int i = 0; i < horizon; i++) {
      t.step();
      if (!Double.isFinite(t.loss())) return Double.NaN;
      if (i >= horizon - tail) sum += t.loss();
    }
    return sum / tail;
  }

  /** Runs {@code spec} as the server does, checking each advice as it is shown; returns how many were. */
  static int checkAdvice(String spec, List<String> failures) {
    RunSpec s = RunSpec.parse(spec);
    Trainer t = new Trainer(s);
    Diagnoser d = new Diagnoser();
    Advisor a = new Advisor(d, false);
    int shown = 0;
    for (int i = 0; i < s.steps() && Double.isFinite(t.loss()) || i == 0; i++) {
      t.step();
      d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
      if (!a.needsProof(t)) continue;
      a.prove(Long.MAX_VALUE);
      Diagnosis advice = a.shown();
      if (!advice.hasAdvice()) continue;
      shown++;
      Trainer applied = t.fork();
      applied.setLr(advice.suggestedLr());
      double with = ahead(applied, Advisor.HORIZON);
      double without = ahead(t.fork(), Advisor.HORIZON);
      if (!(with < without) && !(Double.isFinite(with) && Double.isNaN(without))) {
        failures.add(spec + " at step " + t.stepsTaken() + ": '" + advice.advice() + "' gives " + with + ", keeping the lr "
            + without);
      }
    }
    return shown;
  }

  @Test
  void everyShownAdviceDoesBetterThanKeepingTheLr() {
    List<String> specs = new ArrayList<>(Demo.specs());
    specs.addAll(CASES);
    List<String> failures = new ArrayList<>();
    int shown = 0;
    for (String spec : specs) shown += checkAdvice(spec, failures);
    assertEquals(List.of(), failures);
    assertTrue(shown >= 5, "advice was shown and checked " + shown + " times");
  }

  @Test
  void theRaiseThatWreckedRosenbrockIsNotAdvised() {
    RunSpec s = RunSpec.parse(CASES.get(0));
    Trainer t = new Trainer(s);
    Diagnoser d = new Diagnoser();
    Advisor a = new Advisor(d, false);
    for (int i = 0; i < s.steps(); i++) {
      t.step();
      d.observe(t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.updateCosine(), t.efficiency());
      if (a.needsProof(t)) a.prove(Long.MAX_VALUE);
      Diagnosis shown = a.shown();
      assertTrue(!shown.hasAdvice() || shown.suggestedLr() < 0.001, "step " + t.stepsTaken() + ": " + shown);
      assertTrue(!"too_slow".equals(shown.verdict().label()), "an unconfirmed too_slow is not shown: " + shown);
    }
  }

  /** The trace of a spec with auto_lr: its lr column tells each change. */
  static List<double[]> trace(String spec) throws Exception {
    StringWriter w = new StringWriter();
    TraceCommand.write(RunSpec.parse(spec), w);
    List<double[]> rows = new ArrayList<>();
    for (String line : w.toString().split("\n")) {
      if (line.startsWith("step")) continue;
      String[] c = line.split(",");
      rows.add(new double[] {Double.parseDouble(c[1]), Double.parseDouble(c[2])});
    }
    return rows;
  }

  @Test
  void autoLrNeverTurnsARunThatStaysFiniteIntoOneThatDoesNot() throws Exception {
    List<String> problems = List.of("\"quadratic\"", "\"ellipse\"", "\"rosenbrock\"", "\"linreg\"", "\"logreg\"",
        "\"softmax\"", "{\"type\":\"mlp\",\"hidden\":8,\"batch_size\":64}");
    List<String> optimizers = List.of("sgd", "adam", "adamw", "rmsprop", "adagrad");
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (String problem : problems) {
      for (String optimizer : optimizers) {
        for (String lr : List.of("0.0001", "0.01", "0.3")) {
          String spec = "{\"problem\":" + problem + ",\"optimizer\":{\"type\":\"" + optimizer + "\",\"lr\":" + lr + "},"
              + "\"steps\":1000";
          List<double[]> plain = trace(spec + "}");
          if (!plain.stream().allMatch(r -> Double.isFinite(r[0]))) continue;
          checked++;
          // finite to the end, and not far behind (a cut proven over 200 steps can trail a higher lr by step 1000)
          List<double[]> auto = trace(spec + ",\"auto_lr\":true}");
          int changes = 0;
          int lastChange = 0;
          for (int i = 1; i < auto.size(); i++) {
            if (auto.get(i)[1] != auto.get(i - 1)[1]) {
              changes++;
              lastChange = i;
            }
          }
          double last = auto.get(auto.size() - 1)[0];
          // (a change proven over the next 200 steps is judged at the end only if it had them)
          boolean judged = auto.size() - lastChange >= Advisor.HORIZON;
          if (!auto.stream().allMatch(r -> Double.isFinite(r[0]))
              || judged && !(last <= plain.get(plain.size() - 1)[0] * 2)) {
            failures.add(spec + ": plain ends at " + plain.get(plain.size() - 1)[0] + ", auto_lr at " + last);
          }
          if (changes > 2 * Advisor.MAX_REVERSALS + 2) failures.add(spec + ": auto_lr changed the lr " + changes + " times");
        }
      }
    }
    assertEquals(List.of(), failures);
    assertTrue(checked >= 60, "runs checked: " + checked);
  }
}
