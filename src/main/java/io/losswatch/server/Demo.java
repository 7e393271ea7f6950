package io.losswatch.server;

import io.losswatch.core.RunSpec;
import io.losswatch.run.RunManager;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo gallery: runs paced for a person (20 steps/s) that start over when they end, so a dashboard
 * opened at any time shows motion.
 */
final class Demo {
  static final double PACE = 20;

  private Demo() {
  }

  static List<String> specs() {
    List<String> specs = new ArrayList<>();
    // the textbook example: plain SGD on x², too small, just right, overshooting, diverging
    for (String lr : List.of("0.001", "0.1", "0.9", "1.1")) {
      specs.add(spec("textbook: sgd lr=" + lr, "\"quadratic\"", "{\"type\":\"sgd\",\"lr\":" + lr + "}", null, 400));
    }
    // optimizers compared on rosenbrock
    specs.add(spec("rosenbrock: sgd momentum", "\"rosenbrock\"", "{\"type\":\"sgd\",\"lr\":0.001,\"momentum\":0.9}", null, 1200));
    specs.add(spec("rosenbrock: adam", "\"rosenbrock\"", "{\"type\":\"adam\",\"lr\":0.05}", null, 1200));
    specs.add(spec("rosenbrock: rmsprop", "\"rosenbrock\"", "{\"type\":\"rmsprop\",\"lr\":0.005}", null, 1200));
    specs.add(spec("rosenbrock: adagrad", "\"rosenbrock\"", "{\"type\":\"adagrad\",\"lr\":0.5}", null, 1200));
    // schedules compared on logistic regression
    String sgd = "{\"type\":\"sgd\",\"lr\":0.05}";
    specs.add(spec("logreg: constant", "\"logreg\"", sgd, null, 600));
    specs.add(spec("logreg: step", "\"logreg\"", sgd, "{\"type\":\"step\",\"step_size\":150,\"gamma\":0.3}", 600));
    specs.add(spec("logreg: cosine", "\"logreg\"", sgd, "{\"type\":\"cosine\",\"T_max\":600}", 600));
    specs.add(spec("logreg: warmup_cosine", "\"logreg\"", sgd, "{\"type\":\"warmup_cosine\",\"warmup_steps\":60}", 600));
    // the edge of stability: full-batch gradient descent on a small digits mlp sharpens until its sharpness reaches
    // 2/lr, then hovers there (stability ≈ 1) while the loss still falls (BENCHMARKS.md, "Curvature")
    for (String lr : List.of("0.35", "0.4", "0.6")) {
      specs.add(spec("edge of stability: gd lr=" + lr, EOS_PROBLEM, "{\"type\":\"sgd\",\"lr\":" + lr + "}", null,
          EOS_STEPS, EOS_PACE, EOS_CURVATURE_EVERY));
    }
    return specs;
  }

  static final String EOS_PROBLEM = "{\"type\":\"mlp\",\"hidden\":4}";
  static final int EOS_STEPS = 3000;
  /** A minute a run: the sharpening of lr 0.4 reaches the edge about half way. */
  static final double EOS_PACE = 50;
  static final int EOS_CURVATURE_EVERY = 20;

  private static String spec(String name, String problem, String optimizer, String schedule, int steps) {
    return spec(name, problem, optimizer, schedule, steps, PACE, 0);
  }

  /** A gallery spec; {@code curvatureEvery} 0 leaves the option out (the default). */
  private static String spec(String name, String problem, String optimizer, String schedule, int steps, double pace,
      int curvatureEvery) {
    return "{\"name\":\"" + name + "\",\"problem\":" + problem + ",\"optimizer\":" + optimizer
        + (schedule == null ? "" : ",\"schedule\":" + schedule)
        + ",\"steps\":" + steps + ",\"steps_per_second\":" + pace
        + (curvatureEvery == 0 ? "" : ",\"curvature_every\":" + curvatureEvery) + "}";
  }

  static Future<?> launch(RunManager manager) {
    List<Future<?>> started = new ArrayList<>();
    for (String s : specs()) started.add(manager.launch(RunSpec.parse(s), true));
    return Future.all(started);
  }
}
