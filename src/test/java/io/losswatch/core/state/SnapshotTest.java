package io.losswatch.core.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A run snapshot at a step, through bytes, continues bit for bit: every optimizer, schedule and problem. */
class SnapshotTest {
  static final List<String> OPTIMIZERS = List.of(
      "{\"type\":\"sgd\",\"lr\":0.01,\"momentum\":0.9,\"nesterov\":true,\"weight_decay\":0.001}",
      "{\"type\":\"sgd\",\"lr\":0.01,\"momentum\":0.5,\"dampening\":0.1}",
      "{\"type\":\"adam\",\"lr\":0.01,\"amsgrad\":true}",
      "{\"type\":\"adamw\",\"lr\":0.01,\"weight_decay\":0.1}",
      "{\"type\":\"rmsprop\",\"lr\":0.001,\"momentum\":0.9,\"centered\":true}",
      "{\"type\":\"adagrad\",\"lr\":0.1,\"lr_decay\":0.01}",
      "{\"type\":\"prodigy\",\"weight_decay\":0.01,\"slice_p\":2,\"use_bias_correction\":true}",
      "{\"type\":\"dadapt_adam\",\"weight_decay\":0.01,\"growth_rate\":1.1}",
      "{\"type\":\"dadapt_sgd\",\"momentum\":0.9,\"weight_decay\":0.001}",
      "{\"type\":\"schedulefree_adamw\",\"warmup_steps\":50,\"weight_decay\":0.01,\"inner_momentum\":0.9}",
      "{\"type\":\"schedulefree_sgd\",\"lr\":0.01,\"warmup_steps\":10,\"r\":1}");
  static final List<String> SCHEDULES = List.of(
      "{\"type\":\"constant\"}", "{\"type\":\"step\",\"step_size\":7}", "{\"type\":\"multistep\",\"milestones\":[10,30,30]}",
      "{\"type\":\"exponential\",\"gamma\":0.99}", "{\"type\":\"cosine\",\"T_max\":40}",
      "{\"type\":\"linear\",\"total_iters\":30}", "{\"type\":\"onecycle\",\"max_lr\":0.05}",
      "{\"type\":\"plateau\",\"patience\":2,\"cooldown\":3}", "{\"type\":\"warmup_cosine\",\"warmup_steps\":20}");
  static final List<String> PROBLEMS = List.of("\"quadratic\"", "\"ellipse\"", "\"rosenbrock\"", "\"linreg\"",
      "\"logreg\"", "\"softmax\"", "{\"type\":\"mlp\",\"hidden\":8,\"batch_size\":64,\"seed\":3}");

  static RunSpec spec(String problem, String optimizer, String schedule) {
    return RunSpec.parse("{\"problem\":" + problem + ",\"optimizer\":" + optimizer + ",\"schedule\":" + schedule
        + ",\"steps\":100}");
  }

  /** Runs {@code a} and {@code b} side by side and fails at the first bit that differs. */
  static void assertSameSteps(Trainer a, Trainer b, int steps, String what) {
    for (int i = 0; i < steps; i++) {
      a.step();
      b.step();
      String at = what + " at step " + a.stepsTaken();
      assertEquals(Double.doubleToRawLongBits(a.loss()), Double.doubleToRawLongBits(b.loss()), at + ": loss");
      assertEquals(Double.doubleToRawLongBits(a.lr()), Double.doubleToRawLongBits(b.lr()), at + ": lr");
      assertEquals(Double.doubleToRawLongBits(a.efficiency()), Double.doubleToRawLongBits(b.efficiency()), at);
      assertEquals(Arrays.toString(a.params()), Arrays.toString(b.params()), at + ": params");
    }
  }

  @Test
  void everyOptimizerScheduleAndProblemContinuesBitForBitFromItsSnapshot() {
    int cases = 0;
    for (String problem : PROBLEMS) {
      for (String optimizer : OPTIMIZERS) {
        for (String schedule : SCHEDULES) {
          if (optimizer.contains("adagrad") && schedule.contains("onecycle")) {
            schedule = schedule.replace("}", ",\"cycle_momentum\":false}");
          }
          RunSpec spec = spec(problem, optimizer, schedule);
          Trainer a = new Trainer(spec);
          for (int i = 0; i < 37; i++) a.step();   // past an epoch of 1,797 / 64 minibatches, mid-schedule
          Trainer b = new Trainer(spec, State.fromBytes(a.state().toBytes()));
          assertSameSteps(a, b, 40, problem + " " + optimizer + " " + schedule);
          cases++;
        }
      }
    }
    assertEquals(PROBLEMS.size() * OPTIMIZERS.size() * SCHEDULES.size(), cases);
  }

  @Test
  void aForkIsIndependentOfItsParent() {
    Trainer a = new Trainer(spec(PROBLEMS.get(6), OPTIMIZERS.get(0), SCHEDULES.get(6)));
    for (int i = 0; i < 10; i++) a.step();
    Trainer fork = a.fork();
    fork.setLr(1.0);
    for (int i = 0; i < 5; i++) fork.step();
    Trainer again = a.fork();
    assertSameSteps(a, again, 30, "the parent after its fork went elsewhere");
  }

  @Test
  void theMinibatchOrderIsTheJdksSplittableRandom() {
    Trainer t = new Trainer(spec(PROBLEMS.get(6), OPTIMIZERS.get(2), SCHEDULES.get(0)));
    // the order the mlp drew before its random state came into the open (java.util.SplittableRandom)
    java.util.SplittableRandom jdk = new java.util.SplittableRandom(3 ^ 0x9E3779B97F4A7C15L);
    int[] perm = new int[1797];
    for (int i = 0; i < perm.length; i++) perm[i] = i;
    for (int i = perm.length - 1; i > 0; i--) {
      int j = jdk.nextInt(i + 1);
      int x = perm[i];
      perm[i] = perm[j];
      perm[j] = x;
    }
    int[] order = new int[1797];
    t.state().state("problem").copy("order", order);
    assertEquals(Arrays.toString(perm), Arrays.toString(order));
  }

  @Test
  void aTornStateIsRefused() {
    byte[] b = new Trainer(spec(PROBLEMS.get(0), OPTIMIZERS.get(0), SCHEDULES.get(0))).state().toBytes();
    assertThrows(IllegalArgumentException.class, () -> State.fromBytes(Arrays.copyOf(b, b.length - 3)));
    assertThrows(IllegalArgumentException.class, () -> State.fromBytes(new byte[] {1, 2, 3, 4, 5}));
  }
}
